package dev.lockcache.lock.exclusive;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes waiters when a lock file is removed, through one shared {@link WatchService} per directory.
 *
 * <p>Each watched directory has one watch key (for {@code ENTRY_DELETE}, which also covers a rename away) and
 * one dispatcher thread that counts events per file name and wakes the waiters of that name; an overflow
 * wakes everybody. A directory stays watched while someone waits there and for {@link #IDLE_NANOS} after,
 * so a busy lock does not pay for a new watch on every wait. At most {@value #MAX_DIRECTORIES} directories are
 * watched at once; beyond that, and where the platform's watch service only polls (it would be slower than
 * the backoff), a waiter simply sleeps its backoff pause. A waiter that registers after the removal already
 * happened sees the lock gone and returns at once.
 */
final class DirectoryWatchers {

    private static final Logger LOG = LoggerFactory.getLogger(DirectoryWatchers.class);

    static final int MAX_DIRECTORIES = 64;
    static final long IDLE_NANOS = 10_000_000_000L;

    /** The JVM's watchers. */
    static final DirectoryWatchers SHARED = new DirectoryWatchers();

    // Guarded by this.
    private final Map<Path, Watcher> watchers = new HashMap<>();
    private boolean unusable;

    /**
     * Waits at most {@code nanos} for {@code lockPath} to be removed (or returns at once if it is gone).
     *
     * @throws InterruptedException if interrupted while waiting
     */
    void awaitRemoval(Path lockPath, long nanos) throws InterruptedException {
        Watcher watcher = enter(lockPath.getParent());
        if (watcher == null) {
            TimeUnit.NANOSECONDS.sleep(nanos);
            return;
        }
        try {
            watcher.await(lockPath, nanos);
        } finally {
            leave(watcher);
        }
    }

    /** Number of directories watched right now (for tests). */
    synchronized int watchedDirectories() {
        return watchers.size();
    }

    /** Number of threads waiting for {@code lockPath} right now (for tests). */
    synchronized int waitingFor(Path lockPath) {
        Watcher watcher = watchers.get(lockPath.getParent());
        return watcher == null ? 0 : watcher.waitingFor(lockPath.getFileName());
    }

    private synchronized Watcher enter(Path directory) {
        Watcher watcher = watchers.get(directory);
        if (watcher == null) {
            if (unusable || watchers.size() >= MAX_DIRECTORIES) {
                return null;
            }
            watcher = Watcher.open(directory);
            if (watcher == null) {
                return null;
            }
            if (watcher.polls()) {
                unusable = true;
                watcher.close();
                LOG.debug("the platform's watch service polls; exclusive-create waiters use their backoff instead");
                return null;
            }
            watchers.put(directory, watcher);
            watcher.startDispatcher(this);
        }
        watcher.users++;
        return watcher;
    }

    private synchronized void leave(Watcher watcher) {
        watcher.users--;
        watcher.lastUsedNanos = System.nanoTime();
    }

    /** Called by a dispatcher when idle: closes its watcher if nobody used it lately. */
    private synchronized boolean retireIfIdle(Watcher watcher) {
        if (watcher.users > 0 || System.nanoTime() - watcher.lastUsedNanos < IDLE_NANOS) {
            return false;
        }
        watchers.remove(watcher.directory, watcher);
        watcher.close();
        return true;
    }

    private synchronized void retire(Watcher watcher) {
        watchers.remove(watcher.directory, watcher);
        watcher.close();
    }

    private static final class Watcher {
        final Path directory;
        final WatchService service;
        // Guarded by DirectoryWatchers.this.
        int users;
        long lastUsedNanos = System.nanoTime();

        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        // Guarded by lock: events seen per file name that someone waits for.
        private final Map<Path, long[]> events = new HashMap<>();
        private final Map<Path, Integer> waiting = new HashMap<>();
        private boolean closed;

        private Watcher(Path directory, WatchService service) {
            this.directory = directory;
            this.service = service;
        }

        static Watcher open(Path directory) {
            FileSystem fs = directory.getFileSystem();
            WatchService service = null;
            try {
                service = fs.newWatchService();
                directory.register(service, StandardWatchEventKinds.ENTRY_DELETE);
                return new Watcher(directory, service);
            } catch (IOException | UnsupportedOperationException e) {
                LOG.debug("cannot watch {} ({}); waiters there use their backoff", directory, e.toString());
                if (service != null) {
                    try {
                        service.close();
                    } catch (IOException ignored) {
                        // it was never used
                    }
                }
                return null;
            }
        }

        int waitingFor(Path name) {
            lock.lock();
            try {
                return waiting.getOrDefault(name, 0);
            } finally {
                lock.unlock();
            }
        }

        boolean polls() {
            return service.getClass().getName().contains("Polling");
        }

        void startDispatcher(DirectoryWatchers owner) {
            Thread thread = new Thread(() -> dispatch(owner), "lockcache-exclusive-create-watch " + directory);
            thread.setDaemon(true);
            thread.start();
        }

        void await(Path lockPath, long nanos) throws InterruptedException {
            Path name = lockPath.getFileName();
            long[] counter;
            long seen;
            lock.lock();
            try {
                counter = events.computeIfAbsent(name, n -> new long[1]);
                waiting.merge(name, 1, Integer::sum);
                seen = counter[0];
            } finally {
                lock.unlock();
            }
            try {
                if (!Files.exists(lockPath, LinkOption.NOFOLLOW_LINKS)) {
                    return;
                }
                lock.lockInterruptibly();
                try {
                    long left = nanos;
                    while (counter[0] == seen && !closed && left > 0) {
                        left = changed.awaitNanos(left);
                    }
                } finally {
                    lock.unlock();
                }
            } finally {
                lock.lock();
                try {
                    if (waiting.merge(name, -1, Integer::sum) == 0) {
                        waiting.remove(name);
                        events.remove(name);
                    }
                } finally {
                    lock.unlock();
                }
            }
        }

        private void dispatch(DirectoryWatchers owner) {
            try {
                while (true) {
                    WatchKey key = service.poll(1, TimeUnit.SECONDS);
                    if (key == null) {
                        if (owner.retireIfIdle(this)) {
                            return;
                        }
                        continue;
                    }
                    wake(key);
                    if (!key.reset()) {
                        owner.retire(this); // the directory is gone or no longer watchable
                        return;
                    }
                }
            } catch (ClosedWatchServiceException | InterruptedException e) {
                owner.retire(this);
            }
        }

        private void wake(WatchKey key) {
            lock.lock();
            try {
                for (WatchEvent<?> event : key.pollEvents()) {
                    if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                        events.values().forEach(counter -> counter[0]++);
                    } else if (event.context() instanceof Path name) {
                        long[] counter = events.get(name);
                        if (counter != null) {
                            counter[0]++;
                        }
                    }
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        void close() {
            lock.lock();
            try {
                closed = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            try {
                service.close();
            } catch (IOException e) {
                LOG.debug("closing the watch service of {}: {}", directory, e.toString());
            }
        }
    }
}
