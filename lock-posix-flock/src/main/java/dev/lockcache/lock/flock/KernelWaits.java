package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockMode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blocking {@code flock} waits that still honour timeouts and interrupts.
 *
 * <p>A thread blocked in native {@code flock} ignores {@link Thread#interrupt()} and a close of its descriptor,
 * so the blocking call runs on a helper thread, on a <em>fresh</em> descriptor that belongs to that wait alone,
 * and the caller waits for the helper with a timeout, interruptibly. The kernel wakes the helper on release
 * and the helper wakes the caller: a hand-off costs one thread switch more than blocking in the caller.
 *
 * <p>A caller that times out or is interrupted abandons its wait, which stays parked: the next wait for the
 * same path and mode adopts it instead of starting another helper, so a long-held lock ties up at most one
 * helper thread per path and mode. If nobody adopts it and the kernel grants it the lock, the helper unlocks
 * and closes its own descriptor at once; since no one else ever used that open file description, that unlock
 * drops nobody's lock. A wait abandoned by an interrupted caller after the lock was granted is undone the same
 * way.
 */
final class KernelWaits {
    private static final Logger LOG = LoggerFactory.getLogger(KernelWaits.class);

    private final NativeFlock flock;
    private final IdleDescriptors descriptors;
    private final ConcurrentHashMap<Key, Wait> parked = new ConcurrentHashMap<>();
    private final ExecutorService helpers = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "lockcache-flock-waiter");
        thread.setDaemon(true);
        return thread;
    });

    KernelWaits(NativeFlock flock, IdleDescriptors descriptors) {
        this.flock = flock;
        this.descriptors = descriptors;
    }

    private record Key(Path path, LockMode mode) {}

    /**
     * Waits up to {@code timeoutNanos} ({@link Long#MAX_VALUE}: no limit) for the flock lock on {@code path}.
     *
     * @return a descriptor that holds the lock and belongs to the caller now, or empty when the time ran out
     * @throws InterruptedException when interrupted; nothing is held by the caller
     */
    Optional<NativeFlock.Descriptor> await(Path path, LockMode mode, long timeoutNanos)
            throws IOException, InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before waiting for lock " + path);
        }
        Key key = new Key(path, mode);
        Wait wait = adopt(key);
        if (wait == null) {
            wait = new Wait(key, descriptors.open(path));
            helpers.execute(wait);
        }
        return wait.await(timeoutNanos);
    }

    /** Number of abandoned waits still blocked in the kernel (for tests). */
    int parkedWaits() {
        return parked.size();
    }

    private Wait adopt(Key key) {
        Wait wait = parked.remove(key);
        return wait != null && wait.adopt() ? wait : null;
    }

    private final class Wait implements Runnable {
        private final Key key;
        private final NativeFlock.Descriptor descriptor;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition finishedCondition = lock.newCondition();
        // guarded by lock
        private boolean owned = true;
        private boolean finished;
        private boolean granted;
        private IOException failure;

        Wait(Key key, NativeFlock.Descriptor descriptor) {
            this.key = key;
            this.descriptor = descriptor;
        }

        @Override
        public void run() {
            boolean got = false;
            IOException error = null;
            try {
                got = flock.lock(descriptor.fd(), key.mode(), true, key.path());
            } catch (IOException e) {
                error = e;
            }
            boolean orphan;
            lock.lock();
            try {
                finished = true;
                granted = got;
                failure = error;
                orphan = !owned;
                finishedCondition.signalAll();
            } finally {
                lock.unlock();
            }
            if (orphan) {
                parked.remove(key, this);
                undo(got);
            }
        }

        boolean adopt() {
            lock.lock();
            try {
                if (finished) {
                    return false; // its helper is undoing it
                }
                owned = true;
                return true;
            } finally {
                lock.unlock();
            }
        }

        Optional<NativeFlock.Descriptor> await(long timeoutNanos) throws IOException, InterruptedException {
            lock.lock();
            try {
                long left = timeoutNanos;
                while (!finished) {
                    if (left <= 0) {
                        abandon();
                        return Optional.empty();
                    }
                    try {
                        if (timeoutNanos == Long.MAX_VALUE) {
                            finishedCondition.await();
                        } else {
                            left = finishedCondition.awaitNanos(left);
                        }
                    } catch (InterruptedException e) {
                        if (finished) {
                            undo(granted);
                        } else {
                            abandon();
                        }
                        throw new InterruptedException("interrupted while waiting for lock " + key.path());
                    }
                }
                if (failure != null) {
                    descriptors.discard(key.path(), descriptor);
                    throw failure;
                }
                return Optional.of(descriptor);
            } finally {
                lock.unlock();
            }
        }

        /** Called with the lock held: nobody waits for this any more; park it for adoption. */
        private void abandon() {
            owned = false;
            parked.putIfAbsent(key, this);
        }

        private void undo(boolean locked) {
            if (locked) {
                try {
                    flock.unlock(descriptor.fd(), key.path());
                } catch (IOException e) {
                    LOG.warn("could not unlock an abandoned wait on {}; closing its descriptor instead", key.path(), e);
                }
            }
            descriptors.discard(key.path(), descriptor);
        }
    }
}
