package dev.lockcache.lock;

import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The JVM-wide table of locks, keyed by the lock file's real path, shared by every provider. It settles
 * everything among holders in this JVM (reentrancy, shared holders, upgrade refusal, waiting for a sibling) so
 * that a provider's OS lock is taken once per JVM and only one thread at a time deals with other processes for
 * a path. Entries live only while someone holds or waits for them.
 *
 * <p>A holder is a thread (for {@link #acquire}) or one asynchronous acquisition (for {@link #acquireAsync}).
 * Asynchronous waiters queue in their entry without a thread of their own; when the OS lock must be taken from
 * another process for one of them, one pooled thread waits in the provider for that path (never more than one
 * per path, because only one acquisition at a time is inside the provider for a path). A one-thread timer ends
 * queued asynchronous waits at their deadline and tells their wait listeners.
 */
final class LockTable {

    /** The one table of this JVM: locks taken through different providers on one path still exclude. */
    static final LockTable JVM = new LockTable();

    private final ConcurrentHashMap<Path, Entry> entries = new ConcurrentHashMap<>();

    /** Who holds a path in this JVM, as seen by the asking thread. */
    enum LocalHolder {
        NOBODY,
        CURRENT_THREAD,
        OTHER
    }

    /** Acquires {@code mode} on {@code request.path()} for the current thread. */
    Grant acquire(LockProvider provider, LockRequest request, Deadline deadline, Backoff backoff)
            throws InterruptedException {
        Entry entry = join(request.path());
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

    /**
     * Starts an acquisition whose holder is the returned future's handle rather than a thread; the calling thread
     * never waits. A thread that already holds the path is granted at once, counted against that thread (as a
     * reentrant {@link #acquire} would be). Completing the future in any other way (cancel) before it is granted
     * withdraws the request; a grant that finds the future completed is released at once.
     */
    CompletableFuture<LockHandle> acquireAsync(
            LockProvider provider,
            LockRequest request,
            Deadline deadline,
            Backoff backoff,
            Function<Grant, LockHandle> wrap) {
        Entry entry = join(request.path());
        try {
            return entry.acquireAsync(provider, request, deadline, backoff, wrap);
        } catch (RuntimeException | Error e) {
            leave(entry);
            throw e;
        }
    }

    /** Who holds {@code path} in this JVM, for {@link FileLocks#status}. */
    LocalHolder holder(Path path) {
        Entry entry = entries.get(path);
        return entry == null ? LocalHolder.NOBODY : entry.holder(Thread.currentThread());
    }

    /** Waiters in this JVM for {@code path} right now (queued here, or waiting for another process). */
    int waiters(Path path) {
        Entry entry = entries.get(path);
        return entry == null ? 0 : entry.waiters();
    }

    /** Number of paths currently held or waited for in this JVM (for leak tests). */
    int size() {
        return entries.size();
    }

    private Entry join(Path path) {
        return entries.compute(path, (p, existing) -> {
            Entry e = existing == null ? new Entry(p) : existing;
            e.users++;
            return e;
        });
    }

    private void leave(Entry entry) {
        entries.computeIfPresent(entry.path, (path, current) -> {
            if (current != entry) {
                return current;
            }
            return --current.users == 0 ? null : current;
        });
    }

    /** One holder's hold on an entry; released exactly once. */
    final class Grant {
        private final Entry entry;
        private final Object owner;
        private final LockMode mode;
        private final HeldLock os;
        private final LockProvider provider;

        private Grant(Entry entry, Object owner, LockMode mode, HeldLock os, LockProvider provider) {
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

    /** The threads that serve asynchronous acquisitions: daemon threads, created only while paths are contended. */
    private static final class AsyncThreads {
        static final Executor KERNEL_WAITERS = kernelWaiters();
        static final ScheduledThreadPoolExecutor TIMER = timer();

        private static Executor kernelWaiters() {
            return new ThreadPoolExecutor(
                    0,
                    Integer.MAX_VALUE,
                    30,
                    TimeUnit.SECONDS,
                    new SynchronousQueue<>(),
                    daemons("lockcache-async-wait-"));
        }

        private static ScheduledThreadPoolExecutor timer() {
            ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, daemons("lockcache-async-timer-"));
            timer.setRemoveOnCancelPolicy(true);
            timer.setKeepAliveTime(30, TimeUnit.SECONDS);
            timer.allowCoreThreadTimeOut(true);
            return timer;
        }

        private static ThreadFactory daemons(String prefix) {
            AtomicInteger count = new AtomicInteger();
            return task -> {
                Thread thread = new Thread(task, prefix + count.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            };
        }
    }

    /** Where an asynchronous acquisition stands; changed only under its entry's mutex. */
    private enum AsyncState {
        QUEUED,
        IN_PROVIDER,
        GRANTED,
        ENDED
    }

    /** One asynchronous acquisition: its own holder identity and its future. */
    private static final class AsyncWaiter {
        final Object owner = new Object();
        final LockProvider provider;
        final LockRequest request;
        final Deadline deadline;
        final Backoff backoff;
        final Function<Grant, LockHandle> wrap;
        final CompletableFuture<LockHandle> future = new CompletableFuture<>();
        AsyncState state = AsyncState.QUEUED;
        Thread worker;
        ScheduledFuture<?> timer;

        AsyncWaiter(
                LockProvider provider,
                LockRequest request,
                Deadline deadline,
                Backoff backoff,
                Function<Grant, LockHandle> wrap) {
            this.provider = provider;
            this.request = request;
            this.deadline = deadline;
            this.backoff = backoff;
            this.wrap = wrap;
        }

        boolean exclusive() {
            return request.mode() == LockMode.EXCLUSIVE;
        }
    }

    /** Work decided under the mutex and done after it is released (completing futures runs callers' code). */
    private static final class AfterUnlock {
        final List<Runnable> actions = new ArrayList<>(2);

        /** Runs every action; the first failure is thrown after all have run. */
        void run() {
            RuntimeException first = null;
            for (Runnable action : actions) {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    private final class Entry {
        final Path path;
        /** Holders and waiters; guarded by the table's map. */
        volatile int users;

        private final ReentrantLock mutex = new ReentrantLock();
        private final Condition changed = mutex.newCondition();
        // All below guarded by mutex.
        private Object exclusiveOwner;
        private int exclusiveHolds;
        private final Map<Object, Integer> sharedHolds = new HashMap<>(4);
        private int exclusiveWaiters;
        private boolean acquiring;
        private HeldLock os;
        private LockProvider osProvider;
        private final ArrayDeque<AsyncWaiter> queued = new ArrayDeque<>();

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

        LocalHolder holder(Thread me) {
            mutex.lock();
            try {
                if (exclusiveOwner == me || sharedHolds.containsKey(me)) {
                    return LocalHolder.CURRENT_THREAD;
                }
                return exclusiveOwner != null || !sharedHolds.isEmpty() ? LocalHolder.OTHER : LocalHolder.NOBODY;
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
                    Grant reentrant = reentrant(me, mode);
                    if (reentrant != null) {
                        return reentrant;
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

        /** A grant to a holder that already holds the path, or null; refuses an upgrade. Mutex held. */
        private Grant reentrant(Object me, LockMode mode) {
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
            return null;
        }

        /** Called with the mutex held; returns with it held. */
        private Grant acquireOs(
                LockProvider provider, LockRequest request, Deadline deadline, Backoff backoff, Thread me)
                throws InterruptedException {
            acquiring = true;
            HeldLock taken = null;
            mutex.unlock();
            AfterUnlock after = new AfterUnlock();
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
                dispatch(after);
                if (!after.actions.isEmpty()) {
                    mutex.unlock();
                    try {
                        after.run();
                    } finally {
                        mutex.lock();
                    }
                }
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
                deadline.noticeIfDue(path, provider.name(), mode, () -> provider.readOwner(path));
            } finally {
                if (mode == LockMode.EXCLUSIVE) {
                    exclusiveWaiters--;
                    changed.signalAll(); // shared joiners held back by this waiter may go now
                    AfterUnlock after = new AfterUnlock();
                    dispatch(after);
                    if (!after.actions.isEmpty()) {
                        AsyncThreads.KERNEL_WAITERS.execute(after::run); // never run callers' code under the mutex
                    }
                }
            }
        }

        // ---- asynchronous acquisitions --------------------------------------------------------------------

        CompletableFuture<LockHandle> acquireAsync(
                LockProvider provider,
                LockRequest request,
                Deadline deadline,
                Backoff backoff,
                Function<Grant, LockHandle> wrap) {
            AsyncWaiter waiter = new AsyncWaiter(provider, request, deadline, backoff, wrap);
            AfterUnlock after = new AfterUnlock();
            mutex.lock();
            try {
                Grant reentrant = reentrant(Thread.currentThread(), request.mode());
                if (reentrant != null) {
                    waiter.state = AsyncState.GRANTED;
                    after.actions.add(() -> complete(waiter, reentrant));
                } else {
                    queued.addLast(waiter);
                    if (waiter.exclusive()) {
                        exclusiveWaiters++;
                    }
                    dispatch(after);
                    if (waiter.state == AsyncState.QUEUED) {
                        scheduleTimer(waiter);
                    }
                }
            } finally {
                mutex.unlock();
            }
            waiter.future.whenComplete((handle, failure) -> {
                if (failure != null) {
                    withdraw(waiter);
                }
            });
            after.run();
            return waiter.future;
        }

        /**
         * Grants what can be granted to queued asynchronous waiters, in order, and starts the one provider wait
         * when the OS lock is free in this JVM. Mutex held; completions are left in {@code after}.
         */
        private void dispatch(AfterUnlock after) {
            while (!acquiring && !queued.isEmpty()) {
                AsyncWaiter next = queued.peekFirst();
                if (os == null) {
                    queued.pollFirst();
                    next.state = AsyncState.IN_PROVIDER;
                    acquiring = true;
                    cancelTimer(next);
                    AsyncThreads.KERNEL_WAITERS.execute(() -> waitInProvider(next));
                    return;
                }
                boolean othersWaitExclusive = exclusiveWaiters > 0;
                if (next.request.mode() == LockMode.SHARED && exclusiveOwner == null && !othersWaitExclusive) {
                    queued.pollFirst();
                    hold(next.owner, LockMode.SHARED);
                    next.state = AsyncState.GRANTED;
                    cancelTimer(next);
                    Grant grant = grant(next.owner, LockMode.SHARED);
                    after.actions.add(() -> complete(next, grant));
                    continue;
                }
                return;
            }
        }

        /** The pooled thread's job: take the OS lock from other processes for {@code waiter}. */
        private void waitInProvider(AsyncWaiter waiter) {
            HeldLock taken = null;
            Throwable failure = null;
            mutex.lock();
            boolean withdrawn = waiter.future.isDone();
            waiter.worker = withdrawn ? null : Thread.currentThread();
            mutex.unlock();
            if (!withdrawn) {
                try {
                    taken = WaitLoop.acquire(waiter.provider, waiter.request, waiter.deadline, waiter.backoff);
                } catch (Throwable t) {
                    failure = t;
                }
            }
            AfterUnlock after = new AfterUnlock();
            Grant grant = null;
            mutex.lock();
            try {
                waiter.worker = null;
                Thread.interrupted(); // a withdrawal's interrupt must not reach the release below or a later task
                acquiring = false;
                if (waiter.exclusive()) {
                    exclusiveWaiters--;
                }
                if (taken != null && !waiter.future.isDone()) {
                    os = taken;
                    osProvider = waiter.provider;
                    hold(waiter.owner, waiter.request.mode());
                    waiter.state = AsyncState.GRANTED;
                    grant = grant(waiter.owner, waiter.request.mode());
                } else {
                    waiter.state = AsyncState.ENDED;
                    if (taken != null) {
                        releaseOs(taken, waiter.provider, after); // withdrawn meanwhile: nobody may keep it
                    }
                }
                changed.signalAll();
                dispatch(after);
            } finally {
                mutex.unlock();
            }
            if (grant != null) {
                complete(waiter, grant);
            } else {
                if (!waiter.future.isDone()) {
                    waiter.future.completeExceptionally(
                            failure != null
                                    ? failure
                                    : new LockException("lock " + path + " was not taken", path, null));
                }
                leave(this);
            }
            try {
                after.run();
            } catch (RuntimeException e) {
                // the release of a lock that nobody asked for any more failed: there is no caller to tell
            }
        }

        /** Hands {@code grant} to its future; a future completed meanwhile (cancelled) gets nothing held. */
        private void complete(AsyncWaiter waiter, Grant grant) {
            LockHandle handle;
            try {
                handle = waiter.wrap.apply(grant);
            } catch (RuntimeException | Error e) {
                grant.release();
                waiter.future.completeExceptionally(e);
                return;
            }
            if (!waiter.future.complete(handle)) {
                handle.close();
            }
        }

        /** The future ended before a grant (cancelled, timed out, failed): take the request back. */
        private void withdraw(AsyncWaiter waiter) {
            AfterUnlock after = new AfterUnlock();
            boolean leave = false;
            mutex.lock();
            try {
                if (waiter.state == AsyncState.QUEUED) {
                    queued.remove(waiter);
                    if (waiter.exclusive()) {
                        exclusiveWaiters--;
                    }
                    waiter.state = AsyncState.ENDED;
                    cancelTimer(waiter);
                    leave = true;
                    changed.signalAll();
                    dispatch(after);
                } else if (waiter.state == AsyncState.IN_PROVIDER && waiter.worker != null) {
                    waiter.worker.interrupt(); // the worker ends its wait, holding nothing, and cleans up
                }
            } finally {
                mutex.unlock();
            }
            if (leave) {
                leave(this);
            }
            after.run();
        }

        /** Ends a queued waiter at its deadline, or tells its listener and looks again later. Timer thread. */
        private void timerFired(AsyncWaiter waiter) {
            mutex.lock();
            boolean queuedNow = waiter.state == AsyncState.QUEUED;
            mutex.unlock();
            if (!queuedNow) {
                return;
            }
            if (waiter.deadline.remainingNanos() <= 0) {
                waiter.future.completeExceptionally(
                        new LockTimeoutException(path, waiter.deadline.elapsed(), waiter.provider.readOwner(path)));
                return; // withdraw() takes it out of the queue
            }
            try {
                waiter.deadline.noticeIfDue(
                        path, waiter.provider.name(), waiter.request.mode(), () -> waiter.provider.readOwner(path));
            } catch (RuntimeException | Error e) {
                waiter.future.completeExceptionally(e); // a listener that throws ends the wait
                return;
            }
            mutex.lock();
            try {
                if (waiter.state == AsyncState.QUEUED) {
                    scheduleTimer(waiter);
                }
            } finally {
                mutex.unlock();
            }
        }

        /** Mutex held. */
        private void scheduleTimer(AsyncWaiter waiter) {
            long block = waiter.deadline.blockNanos();
            if (block == Long.MAX_VALUE) {
                return;
            }
            waiter.timer =
                    AsyncThreads.TIMER.schedule(() -> timerFired(waiter), Math.max(0, block), TimeUnit.NANOSECONDS);
        }

        /** Mutex held. */
        private void cancelTimer(AsyncWaiter waiter) {
            if (waiter.timer != null) {
                waiter.timer.cancel(false);
                waiter.timer = null;
            }
        }

        // ---- holds ----------------------------------------------------------------------------------------

        private void hold(Object me, LockMode mode) {
            if (mode == LockMode.EXCLUSIVE) {
                exclusiveOwner = me;
                exclusiveHolds++;
            } else {
                sharedHolds.merge(me, 1, Integer::sum);
            }
        }

        private Grant grant(Object me, LockMode mode) {
            return new Grant(this, me, mode, os, osProvider);
        }

        void release(Object owner, LockMode mode) {
            AfterUnlock after = new AfterUnlock();
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
                    releaseOs(held, provider, after);
                }
            } finally {
                changed.signalAll();
                dispatch(after);
                mutex.unlock();
            }
            after.run();
        }

        /** Releases the OS lock; a failure is thrown after the mutex is released and waiters are served. */
        private void releaseOs(HeldLock held, LockProvider provider, AfterUnlock after) {
            try {
                provider.release(held);
            } catch (IOException e) {
                LockIOException failure = new LockIOException("release", path, e);
                after.actions.add(() -> {
                    throw failure;
                });
            } catch (RuntimeException e) {
                after.actions.add(() -> {
                    throw e;
                });
            }
        }
    }
}
