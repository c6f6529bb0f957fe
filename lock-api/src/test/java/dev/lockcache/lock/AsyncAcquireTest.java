package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileLocks#acquireAsync}: queued in the table without a thread each, granted in turn, withdrawn by
 * cancellation and timeouts without leaving anything held, against the strict in-memory provider.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AsyncAcquireTest {

    @TempDir
    Path dir;

    private final InMemoryProvider provider = new InMemoryProvider(LockSupport::parkNanos);
    private final FileLocks locks = FileLocks.using(provider);

    @AfterEach
    void nothingLeaks() {
        assertThat(provider.violations()).isZero();
    }

    private static void awaitWaiters(Path path, int count) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (FileLocks.waiters(path) != count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " waiters, saw " + FileLocks.waiters(path));
            }
            Thread.yield();
        }
    }

    private static void awaitPathGone(Path path) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (FileLocks.waiters(path) != 0 || FileLocks.waitingForAnotherProcess(path)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waiters never left " + path);
            }
            Thread.yield();
        }
    }

    /**
     * A hold that is not this thread's (an asynchronous acquisition's handle is its own holder), so that this
     * thread's requests queue behind it instead of being granted reentrantly.
     */
    private LockHandle heldElsewhereInThisJvm(Path lock, LockOptions options) throws Exception {
        return locks.acquireAsync(lock, options).get(1, TimeUnit.MINUTES);
    }

    private boolean takenByAnotherThread(Path lock) throws InterruptedException {
        boolean[] taken = new boolean[1];
        Thread other =
                new Thread(() -> locks.tryAcquire(lock, LockMode.EXCLUSIVE).ifPresent(h -> {
                    taken[0] = true;
                    h.close();
                }));
        other.start();
        other.join();
        return taken[0];
    }

    @Test
    void aQueuedRequestIsGrantedWhenTheHolderReleases() throws Exception {
        Path lock = dir.resolve("a.lock");
        LockHandle held = heldElsewhereInThisJvm(lock, LockOptions.exclusive());
        CompletableFuture<LockHandle> next =
                locks.acquireAsync(lock, LockOptions.exclusive().waitForever());
        awaitWaiters(held.path(), 1);
        assertThat(next).isNotDone();
        held.close();
        try (LockHandle granted = next.get(1, TimeUnit.MINUTES)) {
            assertThat(granted.isOpen()).isTrue();
            assertThat(takenByAnotherThread(lock)).isFalse();
        }
        assertThat(provider.heldCount()).isZero();
    }

    @Test
    void manyQueuedRequestsTakeNoThreadEachAndExcludeEachOther() throws Exception {
        Path lock = dir.resolve("many.lock");
        int waiters = 200;
        LockHandle held = heldElsewhereInThisJvm(lock, LockOptions.exclusive());
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        int threadsBefore = Thread.activeCount();
        for (int i = 0; i < waiters; i++) {
            done.add(locks.acquireAsync(lock, LockOptions.exclusive().waitForever())
                    .thenAccept(handle -> {
                        if (inside.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        inside.decrementAndGet();
                        handle.close();
                    }));
        }
        awaitWaiters(held.path(), waiters);
        assertThat(Thread.activeCount() - threadsBefore)
                .as("threads started for %d queued waiters", waiters)
                .isLessThanOrEqualTo(2);
        held.close();
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(1, TimeUnit.MINUTES);
        assertThat(overlaps.get()).isZero();
        assertThat(FileLocks.waiters(held.path())).isZero();
        assertThat(provider.heldCount()).isZero();
    }

    @Test
    void cancellingAQueuedRequestLeavesNothingHeld() throws Exception {
        Path lock = dir.resolve("cancel.lock");
        LockHandle held = heldElsewhereInThisJvm(lock, LockOptions.exclusive());
        CompletableFuture<LockHandle> next =
                locks.acquireAsync(lock, LockOptions.exclusive().waitForever());
        awaitWaiters(held.path(), 1);
        assertThat(next.cancel(true)).isTrue();
        awaitWaiters(held.path(), 0);
        held.close();
        assertThat(provider.heldCount()).isZero();
        assertThat(FileLocks.waiters(held.path())).isZero();
        assertThatThrownBy(next::join).isInstanceOf(CancellationException.class);
        try (LockHandle again = locks.tryAcquire(lock, LockMode.EXCLUSIVE).orElseThrow()) {
            assertThat(again.isOpen()).isTrue();
        }
    }

    @Test
    void cancellingWhileWaitingForAnotherProcessLeavesNothingHeld() throws Exception {
        Path lock = dir.resolve("elsewhere.lock");
        Path real = FileLocks.LockPaths.realPathOf(lock);
        provider.holdElsewhere(real);
        CompletableFuture<LockHandle> waiting =
                locks.acquireAsync(lock, LockOptions.exclusive().waitForever());
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (!FileLocks.waitingForAnotherProcess(real)) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.yield();
        }
        waiting.cancel(true);
        awaitPathGone(real);
        provider.releaseElsewhere(real);
        assertThat(provider.heldCount()).isZero();
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void aQueuedRequestTimesOutWithTheUsualException() throws Exception {
        Path lock = dir.resolve("timeout.lock");
        try (LockHandle held = heldElsewhereInThisJvm(lock, LockOptions.exclusive())) {
            CompletableFuture<LockHandle> next = locks.acquireAsync(lock, LockOptions.exclusive(Duration.ofMillis(20)));
            assertThatThrownBy(() -> next.get(1, TimeUnit.MINUTES))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(LockTimeoutException.class);
            awaitWaiters(held.path(), 0);
        }
        assertThat(provider.heldCount()).isZero();
    }

    @Test
    void theHoldingThreadIsGrantedAtOnceAndAnUpgradeIsRefused() throws Exception {
        Path lock = dir.resolve("reentrant.lock");
        try (LockHandle held = locks.acquire(lock, LockOptions.exclusive())) {
            CompletableFuture<LockHandle> again = locks.acquireAsync(lock, LockOptions.exclusive());
            assertThat(again).isDone();
            again.join().close();
            assertThat(held.isOpen()).isTrue();
        }
        try (LockHandle shared = locks.acquire(lock, LockOptions.shared())) {
            assertThatThrownBy(() ->
                            locks.acquireAsync(lock, LockOptions.exclusive()).join())
                    .hasCauseInstanceOf(LockUpgradeException.class);
        }
        assertThat(provider.heldCount()).isZero();
    }

    @Test
    void sharedRequestsJoinASharedHolderAndAnExclusiveOneWaitsForAll() throws Exception {
        Path lock = dir.resolve("shared.lock");
        LockHandle first = heldElsewhereInThisJvm(lock, LockOptions.shared());
        LockHandle second = locks.acquireAsync(lock, LockOptions.shared()).get(1, TimeUnit.MINUTES);
        CompletableFuture<LockHandle> writer =
                locks.acquireAsync(lock, LockOptions.exclusive().waitForever());
        awaitWaiters(first.path(), 1);
        first.close();
        assertThat(writer).isNotDone();
        second.close();
        writer.get(1, TimeUnit.MINUTES).close();
        assertThat(provider.heldCount()).isZero();
    }
}
