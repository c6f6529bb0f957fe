package dev.lockcache.lock;

import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one place that waits for another process's lock: try, then let the provider wait (blocking in the
 * kernel, on a file event, or sleeping a jittered backoff pause) and try again, until the deadline.
 */
final class WaitLoop {

    /** Paths some thread of this JVM is waiting for in a provider's {@code awaitLock} right now, with counts. */
    static final java.util.concurrent.ConcurrentHashMap<java.nio.file.Path, Integer> IN_PROVIDER_WAIT =
            new java.util.concurrent.ConcurrentHashMap<>();

    private WaitLoop() {}

    /**
     * Takes the OS lock for {@code request} or throws.
     *
     * @throws LockTimeoutException when the deadline passes; nothing is held
     * @throws InterruptedException when interrupted; nothing is held
     */
    static HeldLock acquire(LockProvider provider, LockRequest request, Deadline deadline, Backoff backoff)
            throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for lock " + request.path());
            }
            Optional<HeldLock> held = tryOnce(provider, request);
            if (held.isPresent()) {
                return held.get();
            }
            long remaining = deadline.remainingNanos();
            if (remaining <= 0) {
                throw new LockTimeoutException(request.path(), deadline.elapsed(), provider.readOwner(request.path()));
            }
            long block = deadline.blockNanos();
            long pause = Math.min(backoff.delayNanos(attempt, ThreadLocalRandom.current()), block);
            IN_PROVIDER_WAIT.merge(request.path(), 1, Integer::sum);
            try {
                held = provider.awaitLock(request, pause, block);
            } catch (IOException e) {
                throw new LockIOException("wait", request.path(), e);
            } finally {
                IN_PROVIDER_WAIT.computeIfPresent(request.path(), (p, n) -> n == 1 ? null : n - 1);
            }
            if (held.isPresent()) {
                return held.get();
            }
            deadline.noticeIfDue(
                    request.path(), provider.name(), request.mode(), () -> provider.readOwner(request.path()));
        }
    }

    private static Optional<HeldLock> tryOnce(LockProvider provider, LockRequest request) {
        try {
            return provider.tryLock(request);
        } catch (IOException e) {
            throw new LockIOException("lock", request.path(), e);
        }
    }
}
