package dev.lockcache.lock;

import dev.lockcache.lock.spi.DirectoryTrust;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Locks on paths through one provider. Thread-safe; create one per provider and share it.
 *
 * <pre>{@code
 * FileLocks locks = FileLocks.discover();
 * try (LockHandle lock = locks.acquire(Path.of("/data/cache/.locks/mnist.lock"), LockOptions.exclusive())) {
 *     // only this thread of all threads and processes that lock this path is here
 * }
 * }</pre>
 *
 * <p>Within one JVM every {@code FileLocks}, whatever its provider, goes through one table keyed by the lock
 * file's real path: threads exclude each other without any OS call, re-acquisition by the holding thread is
 * counted (and a shared-to-exclusive upgrade refused with {@link LockUpgradeException}), and the provider's OS
 * lock is taken once and released when the last holder in this JVM closes its handle.
 */
public final class FileLocks {

    private final LockProvider provider;
    private final Ticker ticker;
    private final LockTable table = LockTable.JVM;
    private final LockPaths paths = new LockPaths();

    private FileLocks(LockProvider provider, Ticker ticker) {
        this.provider = provider;
        this.ticker = ticker;
    }

    /** Locks through {@code provider}. */
    public static FileLocks using(LockProvider provider) {
        if (provider == null) {
            throw new IllegalArgumentException("provider must not be null");
        }
        return new FileLocks(provider, Ticker.system());
    }

    /** Locks through the provider that {@link LockProviders#select()} finds. */
    public static FileLocks discover() {
        return using(LockProviders.select());
    }

    /** The same locks, timing waits with {@code newTicker} (for tests of deadlines). */
    public FileLocks withTicker(Ticker newTicker) {
        if (newTicker == null) {
            throw new IllegalArgumentException("ticker must not be null");
        }
        return new FileLocks(provider, newTicker);
    }

    /** The provider behind these locks. */
    public LockProvider provider() {
        return provider;
    }

    /**
     * Acquires the lock at {@code path}, waiting as {@code options} say. The lock file's parent directories
     * are created if missing.
     *
     * @throws LockTimeoutException if the timeout passed first; nothing is held
     * @throws LockUpgradeException if this thread holds the path shared and asks for exclusive
     * @throws LockIOException if the path cannot be used (a parent is a file, the path is a directory, no
     *     permission, a filesystem without this mechanism)
     * @throws InterruptedException if the thread was interrupted while waiting; nothing is held
     */
    public LockHandle acquire(Path path, LockOptions options) throws InterruptedException {
        if (options == null) {
            throw new IllegalArgumentException("lock options must not be null; use LockOptions.exclusive()");
        }
        Path real = paths.resolve(path);
        if (options.mode() == LockMode.SHARED && !provider.features().contains(LockFeature.SHARED)) {
            throw new LockException(
                    "provider '" + provider.name() + "' cannot take shared locks (asked for " + real
                            + "); acquire it exclusively or choose a provider with shared locks",
                    real,
                    null);
        }
        Deadline deadline = Deadline.after(ticker, options);
        LockRequest request = new LockRequest(real, options.mode(), options.operation());
        LockEvents.Acquired event = new LockEvents.Acquired();
        event.begin();
        try {
            Handle handle = new Handle(table.acquire(provider, request, deadline, options.backoff()));
            if (event.shouldCommit()) {
                event.path = real.toString();
                event.provider = provider.name();
                event.mode = options.mode().name();
                event.fencingToken = handle.fencingToken();
                event.commit();
            }
            return handle;
        } catch (LockIOException e) {
            paths.forget(path);
            throw e;
        }
    }

    /** Acquires {@code path} exclusively, waiting up to {@code timeout}. */
    public LockHandle acquire(Path path, Duration timeout) throws InterruptedException {
        return acquire(path, LockOptions.exclusive(timeout));
    }

    /** One attempt, no wait: the handle, or empty if someone else holds the lock. */
    public Optional<LockHandle> tryAcquire(Path path, LockMode mode) {
        if (mode == null) {
            throw new IllegalArgumentException("lock mode must not be null");
        }
        try {
            return Optional.of(
                    acquire(path, LockOptions.exclusive().withMode(mode).tryOnce()));
        } catch (LockTimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Reads the owner record of {@code path} without locking it. */
    public LockOwner owner(Path path) {
        return provider.readOwner(paths.resolve(path));
    }

    /**
     * Looks at {@code path}: the owner record and whether someone holds the lock right now (found with one
     * shared try where the provider has shared locks, else an exclusive one, released at once).
     */
    public LockStatus status(Path path) {
        Path real = paths.resolve(path);
        LockMode probeMode = provider.features().contains(LockFeature.SHARED) ? LockMode.SHARED : LockMode.EXCLUSIVE;
        Optional<LockHandle> probe = tryAcquire(real, probeMode);
        probe.ifPresent(LockHandle::close);
        return new LockStatus(real, provider.readOwner(real), probe.isEmpty());
    }

    /**
     * How many threads of this JVM are waiting for the lock at {@code path} right now: queued behind a sibling
     * thread, or waiting for another process. For monitoring and for tests that must know a waiter has begun
     * waiting (rather than matching stack frames).
     */
    public static int waiters(Path path) {
        return LockTable.JVM.waiters(LockPaths.realPathOf(path));
    }

    /**
     * Whether a thread of this JVM is inside a provider's wait for {@code path} right now: it found the lock held
     * by another process and waits for the kernel, a file event or its next poll.
     */
    public static boolean waitingForAnotherProcess(Path path) {
        return WaitLoop.IN_PROVIDER_WAIT.containsKey(LockPaths.realPathOf(path));
    }

    /** Number of paths held or waited for in this JVM right now, by any provider (for leak checks). */
    public static int pathsInUse() {
        return LockTable.JVM.size();
    }

    private static final class Handle implements LockHandle {
        private final LockTable.Grant grant;
        private final AtomicBoolean open = new AtomicBoolean(true);
        private final long grantedAt = System.nanoTime();

        Handle(LockTable.Grant grant) {
            this.grant = grant;
        }

        @Override
        public Path path() {
            return grant.path();
        }

        @Override
        public LockMode mode() {
            return grant.mode();
        }

        @Override
        public String provider() {
            return grant.providerName();
        }

        @Override
        public long fencingToken() {
            return grant.fencingToken();
        }

        @Override
        public OptionalInt inheritableDescriptor() {
            return open.get() ? grant.held().inheritableDescriptor() : OptionalInt.empty();
        }

        @Override
        public void onLost(LockLossListener listener) {
            if (listener == null) {
                throw new IllegalArgumentException("loss listener must not be null");
            }
            grant.held().onLost(reason -> listener.lockLost(this, reason));
        }

        @Override
        public Optional<String> lost() {
            return grant.held().lost();
        }

        @Override
        public boolean isOpen() {
            return open.get();
        }

        @Override
        public void close() {
            if (open.compareAndSet(true, false)) {
                LockEvents.Released event = new LockEvents.Released();
                try {
                    grant.release();
                } finally {
                    if (event.shouldCommit()) {
                        event.path = grant.path().toString();
                        event.provider = grant.providerName();
                        event.mode = grant.mode().name();
                        event.held = System.nanoTime() - grantedAt;
                        event.commit();
                    }
                }
            }
        }

        @Override
        public String toString() {
            return "LockHandle[" + grant.path() + ", " + grant.mode() + ", " + grant.providerName()
                    + (open.get() ? "" : ", closed") + "]";
        }
    }

    /**
     * Creates the missing directories of {@code directory}, each with {@link DirectoryTrust#directoryMode()} set
     * after creation (so the umask does not widen them); existing ones are left as they are.
     */
    static void createPrivateDirectories(Path directory) throws IOException {
        if (Files.isDirectory(directory)) {
            return;
        }
        Path parent = directory.getParent();
        if (parent != null) {
            createPrivateDirectories(parent);
        }
        try {
            Files.createDirectory(directory);
        } catch (FileAlreadyExistsException e) {
            if (Files.isDirectory(directory)) {
                return; // made by someone else meanwhile: judged by the provider like any existing directory
            }
            throw e;
        }
        if (DirectoryTrust.posix()) {
            Files.getFileAttributeView(directory, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setPermissions(DirectoryTrust.directoryPermissions());
        }
    }

    /** Turns caller paths into real lock-file paths, creating parents; remembers recent answers. */
    static final class LockPaths {
        private static final int MAX_REMEMBERED = 4096;
        private final ConcurrentHashMap<Path, Path> remembered = new ConcurrentHashMap<>();

        Path resolve(Path path) {
            if (path == null) {
                throw new IllegalArgumentException("lock path must not be null");
            }
            Path known = remembered.get(path);
            if (known != null) {
                return known;
            }
            Path real = resolveNow(path);
            if (remembered.size() >= MAX_REMEMBERED) {
                remembered.clear();
            }
            remembered.put(path, real);
            return real;
        }

        /** The real lock path of {@code path} without creating anything (the path itself if it cannot be resolved). */
        static Path realPathOf(Path path) {
            Path absolute = path.toAbsolutePath().normalize();
            Path parent = absolute.getParent();
            try {
                return parent == null ? absolute : parent.toRealPath().resolve(absolute.getFileName());
            } catch (IOException e) {
                return absolute;
            }
        }

        void forget(Path path) {
            if (path != null) {
                remembered.remove(path);
            }
        }

        private static Path resolveNow(Path path) {
            Path absolute = path.toAbsolutePath().normalize();
            Path parent = absolute.getParent();
            if (parent == null || absolute.getFileName() == null) {
                throw new LockException(
                        "lock path " + path + " names no file; give a file path such as /tmp/x/.lock", path, null);
            }
            try {
                createPrivateDirectories(parent);
            } catch (FileAlreadyExistsException e) {
                throw new LockIOException(
                        "create parent directories",
                        absolute,
                        "a parent of the lock path is a file, not a directory; choose another lock path",
                        e);
            } catch (IOException e) {
                throw new LockIOException(
                        "create parent directories", absolute, "check the permissions of " + parent, e);
            }
            Path real;
            try {
                // Only the directory is resolved: a symbolic link at the lock path itself must never decide which
                // file is locked (the provider refuses it instead).
                real = parent.toRealPath().resolve(absolute.getFileName());
            } catch (IOException e) {
                throw new LockIOException("resolve real path", absolute, e);
            }
            if (Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
                throw new LockException(
                        "lock path " + real + " is a directory; give a file path inside it, such as "
                                + real.resolve(".lock"),
                        real,
                        null);
            }
            return real;
        }
    }
}
