package dev.lockcache.lock.ofd;

import dev.lockcache.lock.LockMode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Kernel-blocking waits ({@code F_OFD_SETLKW}) run in helper threads, so that the caller's wait still ends at
 * its deadline or on {@link Thread#interrupt()}: a thread blocked in {@code fcntl} ignores both.
 *
 * <p>Every wait owns a descriptor opened for it alone. A wait the caller gives up on is <em>abandoned</em>: it
 * stays blocked in the kernel, and if it ever gets the lock it unlocks and closes its own descriptor, which
 * touches no one else's lock because OFD locks belong to the open file description. The next wait for the same
 * path and mode <em>adopts</em> an abandoned wait instead of starting another, so a path never has more than
 * one helper per mode, and at most {@link #MAX_IN_FLIGHT} helpers exist at once; beyond that callers poll.
 */
final class BlockedWaiters {

    /** Most helper threads blocked in the kernel at once (waiting or abandoned). */
    static final int MAX_IN_FLIGHT = 64;

    private final ConcurrentHashMap<Key, Waiter> waiters = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ExecutorService threads =
            new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), runnable -> {
                Thread thread = new Thread(runnable, "lockcache-ofd-waiter");
                thread.setDaemon(true);
                return thread;
            });

    private record Key(Path path, LockMode mode) {}

    /**
     * Waits up to {@code remainingNanos} ({@link Long#MAX_VALUE}: no limit) for the lock, and returns the
     * descriptor that holds it; empty if time ran out (the wait is left behind, abandoned). When {@link
     * #MAX_IN_FLIGHT} helpers are blocked already, sleeps {@code pollNanos} instead and returns empty, so the
     * caller polls.
     *
     * @throws InterruptedException when interrupted; nothing is held by the caller afterwards
     */
    Optional<Descriptor> await(Path path, LockMode mode, long pollNanos, long remainingNanos)
            throws IOException, InterruptedException {
        Key key = new Key(path, mode);
        Waiter waiter = adopt(key);
        if (waiter == null) {
            if (inFlight.get() >= MAX_IN_FLIGHT) {
                TimeUnit.NANOSECONDS.sleep(pollNanos);
                return Optional.empty();
            }
            waiter = start(key);
        }
        return waiter.await(remainingNanos);
    }

    /** Helper threads blocked in the kernel now, waiting for a caller or abandoned (for tests). */
    int inFlight() {
        return inFlight.get();
    }

    private Waiter adopt(Key key) {
        Waiter abandoned = waiters.get(key);
        return abandoned != null && abandoned.state.compareAndSet(Waiter.ABANDONED, Waiter.WAITING) ? abandoned : null;
    }

    private Waiter start(Key key) throws IOException {
        Descriptor descriptor = Descriptor.open(key.path());
        Waiter waiter = new Waiter(key, descriptor);
        inFlight.incrementAndGet();
        waiters.put(key, waiter);
        try {
            threads.execute(waiter);
        } catch (RuntimeException e) {
            waiters.remove(key, waiter);
            inFlight.decrementAndGet();
            descriptor.close();
            throw e;
        }
        return waiter;
    }

    private final class Waiter implements Runnable {
        static final int WAITING = 0;
        static final int ABANDONED = 1;
        static final int DELIVERED = 2;
        static final int CLEANED = 3;

        final Key key;
        final Descriptor descriptor;
        final AtomicInteger state = new AtomicInteger(WAITING);
        final CompletableFuture<Descriptor> result = new CompletableFuture<>();

        Waiter(Key key, Descriptor descriptor) {
            this.key = key;
            this.descriptor = descriptor;
        }

        @Override
        public void run() {
            IOException failure = null;
            try {
                OfdSyscalls.lockBlocking(descriptor.fd(), OfdLockProvider.lockType(key.mode()), key.path());
            } catch (IOException e) {
                failure = e;
            } catch (RuntimeException | Error e) {
                failure = new IOException("waiting for lock " + key.path() + " failed: " + e, e);
            }
            try {
                hand(failure);
            } finally {
                waiters.remove(key, this);
                inFlight.decrementAndGet();
            }
        }

        /** Gives the outcome to the caller waiting now, or cleans up after the one that left. */
        private void hand(IOException failure) {
            while (true) {
                if (state.compareAndSet(WAITING, DELIVERED)) {
                    if (failure == null) {
                        result.complete(descriptor);
                    } else {
                        descriptor.close();
                        result.completeExceptionally(failure);
                    }
                    return;
                }
                if (state.compareAndSet(ABANDONED, CLEANED)) {
                    release(failure == null);
                    return;
                }
            }
        }

        Optional<Descriptor> await(long remainingNanos) throws IOException, InterruptedException {
            try {
                return Optional.of(
                        remainingNanos == Long.MAX_VALUE
                                ? result.get()
                                : result.get(remainingNanos, TimeUnit.NANOSECONDS));
            } catch (TimeoutException e) {
                if (state.compareAndSet(WAITING, ABANDONED)) {
                    return Optional.empty();
                }
                return Optional.of(delivered()); // the kernel granted it just now
            } catch (InterruptedException e) {
                if (!state.compareAndSet(WAITING, ABANDONED)) {
                    try {
                        delivered();
                        release(true);
                    } catch (IOException ignored) {
                        // the wait failed anyway; nothing is held
                    }
                }
                throw e;
            } catch (ExecutionException e) {
                throw unwrap(e);
            }
        }

        private Descriptor delivered() throws IOException {
            try {
                return result.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw unwrap(e);
            }
        }

        private void release(boolean locked) {
            try {
                if (locked) {
                    OfdSyscalls.unlock(descriptor.fd(), key.path());
                }
            } catch (IOException ignored) {
                // closing the description below drops the lock as well
            } finally {
                descriptor.close();
            }
        }

        private IOException unwrap(Exception e) {
            Throwable cause = e.getCause();
            return cause instanceof IOException io
                    ? io
                    : new IOException("waiting for lock " + key.path() + " failed: " + cause, cause);
        }
    }
}
