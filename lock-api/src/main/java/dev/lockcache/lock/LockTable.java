package dev.lockcache.lock;

import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The JVM-wide table of locks, keyed by the lock file's real path, shared by every provider. It settles
 * everything among threads of this JVM (reentrancy, shared holders, upgrade refusal, waiting for a sibling
 * thread) so that a provider's OS lock is taken once per JVM and only one thread at a time deals with other
 * processes for a path. Entries live only while some thread holds or waits for them.
 */
final class LockTable {

    /** The one table of this JVM: locks taken through different providers on one path still exclude. */
    static final LockTable JVM = new LockTable();

    private final ConcurrentHashMap<Path, Entry> entries = new ConcurrentHashMap<>();

    /** Acquires {@code mode} on {@code request.path()} for the current thread. */
    Grant acquire(LockProvider provider, LockRequest request, Deadline deadline, Backoff backoff)
            throws InterruptedException {
        Entry entry = entries.compute(request.path(), (path, existing) -> {
            Entry e = existing == null ? new Entry(path) : existing;
            e.users++;
            return e;
        });
        boolean granted = false;
        try {
            Grant grant = entry.acquire(provider, request, deadline, backoff);
            granted = true;
            return grant;
        } finally {
            if (!granted) {
                leave(entry);
            }
        }
    }

    /** Threads of this JVM that wait for {@code path} right now (queued here or waiting for another process). */
    int waiters(Path path) {
        Entry entry = entries.get(path);
        return entry == null ? 0 : entry.waiters();
    }

    /** Number of paths currently held or waited for in this JVM (for leak tests). */
    int size() {
        return entries.size();
    }

    private void leave(Entry entry) {
        entries.computeIfPresent(entry.path, (path, current) -> {
            if (current != entry) {
                return current;
            }
            return --current.users == 0 ? null : current;
        });
    }

    /** One thread's hold on an entry; released exactly once. */
    final class Grant {
        private final Entry entry;
        private final Thread owner;
        private final LockMode mode;
        private final HeldLock os;
        private final LockProvider provider;

        private Grant(Entry entry, Thread owner, LockMode mode, HeldLock os, LockProvider provider) {
            this.entry = entry;
            this.owner = owner;
            this.mode = mode;
            this.os = os;
            this.provider = provider;
        }

        Path path() {
            return entry.path;
        }

        LockMode mode() {
            return mode;
        }

        long fencingToken() {
            return os.fencingToken();
        }

        /** The provider's record of the OS lock behind this grant. */
        HeldLock held() {
            return os;
        }

        String providerName() {
            return provider.name();
        }

        void release() {
            try {
                entry.release(owner, mode);
            } finally {
                leave(entry);
            }
        }
    }

    private final class Entry {
        final Path path;
        /** Threads holding or waiting; guarded by the table's map. */
        volatile int users;

        private final ReentrantLock mutex = new ReentrantLock();
        private final Condition changed = mutex.newCondition();
        // All below guarded by mutex.
        private Thread exclusiveOwner;
        private int exclusiveHolds;
        private final Map<Thread, Integer> sharedHolds = new HashMap<>(4);
        private int exclusiveWaiters;
        private boolean acquiring;
        private HeldLock os;
        private LockProvider osProvider;

        Entry(Path path) {
            this.path = path;
        }

        int waiters() {
            mutex.lock();
            try {
                int holders = exclusiveHolds;
                for (int holds : sharedHolds.values()) {
                    holders += holds;
                }
                return Math.max(0, users - holders);
            } finally {
                mutex.unlock();
            }
        }

        Grant acquire(LockProvider provider, LockRequest request, Deadline deadline, Backoff backoff)
                throws InterruptedException {
            Thread me = Thread.currentThread();
            LockMode mode = request.mode();
            mutex.lockInterruptibly();
            try {
                while (true) {
                    if (exclusiveOwner == me) {
                        hold(me, mode);
                        return grant(me, mode);
                    }
                    if (sharedHolds.containsKey(me)) {
                        if (mode == LockMode.EXCLUSIVE) {
                            throw new LockUpgradeException(path);
                        }
                        hold(me, mode);
                        return grant(me, mode);
                    }
                    if (!acquiring) {
                        if (os == null) {
                            return acquireOs(provider, request, deadline, backoff, me);
                        }
                        if (mode == LockMode.SHARED && exclusiveOwner == null && exclusiveWaiters == 0) {
                            hold(me, mode);
                            return grant(me, mode);
                        }
                    }
                    awaitChange(mode, deadline, provider);
                }
            } finally {
                mutex.unlock();
            }
        }

        /** Called with the mutex held; returns with it held. */
        private Grant acquireOs(
                LockProvider provider, LockRequest request, Deadline deadline, Backoff backoff, Thread me)
                throws InterruptedException {
            acquiring = true;
            HeldLock taken = null;
            mutex.unlock();
            try {
                taken = WaitLoop.acquire(provider, request, deadline, backoff);
            } finally {
                mutex.lock();
                acquiring = false;
                if (taken != null) {
                    os = taken;
                    osProvider = provider;
                    hold(me, request.mode());
                }
                changed.signalAll();
            }
            return grant(me, request.mode());
        }

        private void awaitChange(LockMode mode, Deadline deadline, LockProvider provider) throws InterruptedException {
            long remaining = deadline.remainingNanos();
            if (remaining <= 0) {
                throw new LockTimeoutException(path, deadline.elapsed(), provider.readOwner(path));
            }
            if (mode == LockMode.EXCLUSIVE) {
                exclusiveWaiters++;
            }
            try {
                long block = deadline.blockNanos();
                if (block == Long.MAX_VALUE) {
                    changed.await();
                } else {
                    changed.awaitNanos(block);
                }
                deadline.noticeIfDue(path, () -> provider.readOwner(path));
            } finally {
                if (mode == LockMode.EXCLUSIVE) {
                    exclusiveWaiters--;
                    changed.signalAll(); // shared joiners held back by this waiter may go now
                }
            }
        }

        private void hold(Thread me, LockMode mode) {
            if (mode == LockMode.EXCLUSIVE) {
                exclusiveOwner = me;
                exclusiveHolds++;
            } else {
                sharedHolds.merge(me, 1, Integer::sum);
            }
        }

        private Grant grant(Thread me, LockMode mode) {
            return new Grant(this, me, mode, os, osProvider);
        }

        void release(Thread owner, LockMode mode) {
            mutex.lock();
            try {
                if (mode == LockMode.EXCLUSIVE) {
                    if (--exclusiveHolds == 0) {
                        exclusiveOwner = null;
                    }
                } else {
                    sharedHolds.computeIfPresent(owner, (t, n) -> n == 1 ? null : n - 1);
                }
                if (exclusiveOwner == null && sharedHolds.isEmpty()) {
                    HeldLock held = os;
                    LockProvider provider = osProvider;
                    os = null;
                    osProvider = null;
                    try {
                        provider.release(held);
                    } catch (IOException e) {
                        throw new LockIOException("release", path, e);
                    }
                }
            } finally {
                changed.signalAll();
                mutex.unlock();
            }
        }
    }
}
