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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Locks on paths. Thread-safe; create one and share it.
 *
 * <pre>{@code
 * FileLocks locks = FileLocks.discover();
 * try (LockHandle lock = locks.acquire(Path.of("/data/cache/.locks/mnist.lock"), LockOptions.exclusive())) {
 *     // only this thread of all threads and processes that lock this path is here
 * }
 * }</pre>
 *
 * <p>Which provider's mechanism takes a lock is fixed ({@link #using}), chosen once for a directory by its
 * filesystem ({@link #forDirectory}), or chosen per lock directory by a {@link LockStrategy} ({@link
 * #byFilesystem}, and {@link #discover()} when several providers are installed and no name is configured).
 *
 * <p>Within one JVM every {@code FileLocks}, whatever its provider, goes through one table keyed by the lock
 * file's real path: threads exclude each other without any OS call, re-acquisition by the holding thread is
 * counted (and a shared-to-exclusive upgrade refused with {@link LockUpgradeException}), and the provider's OS
 * lock is taken once and released when the last holder in this JVM closes its handle.
 */
public final class FileLocks {

    private static final int MAX_REMEMBERED_DIRECTORIES = 1024;

    /** The one provider, or null when {@link #strategy} chooses per directory. */
    private final LockProvider provider;

    private final LockStrategy strategy;
    private final Ticker ticker;
    private final LockTable table = LockTable.JVM;
    private final LockPaths paths = new LockPaths();
    private final ConcurrentHashMap<Path, LockProvider> byDirectory = new ConcurrentHashMap<>();

    private FileLocks(LockProvider provider, LockStrategy strategy, Ticker ticker) {
        this.provider = provider;
        this.strategy = strategy;
        this.ticker = ticker;
    }

    /** Locks through {@code provider}, whatever the filesystem. */
    public static FileLocks using(LockProvider provider) {
        if (provider == null) {
            throw new IllegalArgumentException("provider must not be null");
        }
        return new FileLocks(provider, null, Ticker.system());
    }

    /**
     * Locks through the provider that {@link LockStrategy#standard()} chooses for {@code directory}'s filesystem
     * (created with owner-only permissions if missing): the table in the design (flock on local disks, OFD or
     * FileChannel on NFS with working locks, exclusive-create where kernel locks do not reach other clients...),
     * each choice confirmed by a probe, the verdict kept per mount. An explicit name ({@code
     * -Dlockcache.provider}) wins unless the mount options or its probe prove it useless there.
     *
     * @throws LockProviderException when no installed provider works there; the message lists each candidate
     */
    public static FileLocks forDirectory(Path directory) {
        return forDirectory(directory, LockStrategy.standard());
    }

    /** Locks through the provider that {@code strategy} chooses for {@code directory} (created if missing). */
    public static FileLocks forDirectory(Path directory, LockStrategy strategy) {
        if (directory == null || strategy == null) {
            throw new IllegalArgumentException("directory and strategy must not be null");
        }
        return using(strategy.choose(existingDirectory(directory)).provider());
    }

    /**
     * Locks whose provider {@code strategy} chooses for each lock file's directory (asked once per directory and
     * remembered), so one {@code FileLocks} serves a local disk and an NFS mount alike.
     */
    public static FileLocks byFilesystem(LockStrategy strategy) {
        if (strategy == null) {
            throw new IllegalArgumentException("strategy must not be null");
        }
        return new FileLocks(null, strategy, Ticker.system());
    }

    /**
     * Locks without naming a provider: the one named by {@code -Dlockcache.provider} / {@code LOCKCACHE_PROVIDER}
     * (it must be available); else the one available provider on the class path; else, when several are
     * available, {@link #byFilesystem} with {@link LockStrategy#standard()}, which picks per lock directory by
     * its filesystem. Opt-in providers ({@code double}) count only when named.
     *
     * @throws LockProviderException when a named provider is unknown or unavailable, or none is available
     */
    public static FileLocks discover() {
        return discover(LockProviders.configuredName(), LockProviders.installed(), LockStrategy.standard());
    }

    static FileLocks discover(Optional<String> configured, Map<String, LockProvider> providers, LockStrategy strategy) {
        if (configured.isEmpty() && LockProviders.candidates(providers).size() > 1) {
            return byFilesystem(strategy);
        }
        return using(LockProviders.select(configured, providers));
    }

    /** The same locks, timing waits with {@code newTicker} (for tests of deadlines). */
    public FileLocks withTicker(Ticker newTicker) {
        if (newTicker == null) {
            throw new IllegalArgumentException("ticker must not be null");
        }
        return new FileLocks(provider, strategy, newTicker);
    }

    /**
     * The provider behind these locks.
     *
     * @throws LockProviderException when the provider is chosen per directory ({@link #byFilesystem}, or {@link
     *     #discover()} among several); ask {@link #provider(Path)} for a lock path instead
     */
    public LockProvider provider() {
        if (provider == null) {
            throw new LockProviderException(
                    "these locks choose their provider per directory by filesystem; ask provider(lockPath)", List.of());
        }
        return provider;
    }

    /** The provider that locks {@code lockPath} (its directory is created if missing). */
    public LockProvider provider(Path lockPath) {
        return providerFor(paths.resolve(lockPath));
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
        requireOptions(options);
        Path real = paths.resolve(path);
        LockProvider chosen = providerFor(real);
        requireMode(chosen, real, options.mode());
        Deadline deadline = Deadline.after(ticker, options);
        LockRequest request = new LockRequest(real, options.mode(), options.operation());
        Object event = LockEvents.acquireBegun();
        try {
            return handle(table.acquire(chosen, request, deadline, options.backoff()), event);
        } catch (LockIOException e) {
            paths.forget(path);
            throw e;
        }
    }

    /** Acquires {@code path} exclusively, waiting up to {@code timeout}. */
    public LockHandle acquire(Path path, Duration timeout) throws InterruptedException {
        return acquire(path, LockOptions.exclusive(timeout));
    }

    /**
     * Starts acquiring the lock at {@code path} without blocking the calling thread; the future completes with
     * the handle, or exceptionally with what {@link #acquire} would have thrown ({@link LockTimeoutException}
     * at the deadline...). Waiting costs no thread of its own: the request queues in this JVM's lock table, and
     * while the lock is held by another process one pooled thread per contended path waits in the provider.
     *
     * <p>The handle's holder is the acquisition, not the calling thread: it may be closed from any thread, and
     * a thread that acquires the same path again while the handle is open waits like any other (except that a
     * thread already holding the path when it calls this method is granted at once, reentrantly, as with
     * {@link #acquire}). Cancelling the future (or completing it yourself) before it is granted withdraws the
     * request; a grant that finds the future already completed is released at once, so nothing stays held.
     */
    public CompletableFuture<LockHandle> acquireAsync(Path path, LockOptions options) {
        requireOptions(options);
        Path real;
        LockProvider chosen;
        try {
            real = paths.resolve(path);
            chosen = providerFor(real);
            requireMode(chosen, real, options.mode());
        } catch (LockException e) {
            paths.forget(path);
            return CompletableFuture.failedFuture(e);
        }
        Deadline deadline = Deadline.after(ticker, options);
        LockRequest request = new LockRequest(real, options.mode(), options.operation());
        Object event = LockEvents.acquireBegun();
        try {
            return table.acquireAsync(chosen, request, deadline, options.backoff(), grant -> handle(grant, event));
        } catch (LockException e) {
            return CompletableFuture.failedFuture(e); // an upgrade refused at once
        }
    }

    /**
     * Runs {@code action} while holding the lock at {@code path}, and releases it however the action ends; the
     * action's result is returned and its exception thrown as it is.
     *
     * <pre>{@code
     * long rows = locks.withLock(path, LockOptions.exclusive(Duration.ofSeconds(30)), lock -> importRows());
     * }</pre>
     *
     * @throws LockTimeoutException if the lock was not obtained in time; the action did not run
     * @throws InterruptedException if interrupted while waiting; the action did not run
     */
    public <T, X extends Exception> T withLock(Path path, LockOptions options, LockedAction<T, X> action)
            throws InterruptedException, X {
        if (action == null) {
            throw new IllegalArgumentException("action must not be null");
        }
        try (LockHandle lock = acquire(path, options)) {
            return action.run(lock);
        }
    }

    /**
     * One attempt, no wait: the handle, or empty if someone else holds the lock. To close what you take:
     *
     * <pre>{@code
     * try (LockHandle lock = locks.tryAcquire(path, LockMode.EXCLUSIVE).orElse(null)) {
     *     if (lock == null) {
     *         return; // someone else is at it
     *     }
     *     // ...
     * }
     * }</pre>
     *
     * ({@code try} accepts a {@code null} resource and then closes nothing.) An interrupted thread gets empty
     * with its interrupt flag kept.
     */
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

    /**
     * What the owner record of {@code path} says, read without locking: while the lock is held, the holder's;
     * when it is free, for mechanisms whose lock file outlives the lock, the <em>last</em> holder's. Use {@link
     * #status} to learn whether anyone holds it now.
     */
    public LockOwner lastRecord(Path path) {
        Path real = paths.resolve(path);
        return providerFor(real).readOwner(real);
    }

    /**
     * The owner record, read without locking.
     *
     * @deprecated the record may be the last holder's when the lock is free; use {@link #lastRecord} (same
     *     answer) or {@link #status} (whether it is held now, and by whom)
     */
    @Deprecated
    public LockOwner owner(Path path) {
        return lastRecord(path);
    }

    /**
     * Whether the lock at {@code path} is held right now, and by whom: the asking thread, another holder in this
     * JVM, or another process (found with one shared try where the provider has shared locks, else an
     * exclusive one, released at once; a process holding it shared is therefore seen as {@code NOBODY} by a
     * shared try), with the owner record.
     */
    public LockStatus status(Path path) {
        Path real = paths.resolve(path);
        LockProvider chosen = providerFor(real);
        LockTable.LocalHolder local = table.holder(real);
        if (local != LockTable.LocalHolder.NOBODY) {
            LockStatus.Holder holder = local == LockTable.LocalHolder.CURRENT_THREAD
                    ? LockStatus.Holder.CURRENT_THREAD
                    : LockStatus.Holder.THIS_PROCESS;
            return new LockStatus(real, holder, chosen.readOwner(real));
        }
        LockMode probeMode = chosen.features().contains(LockFeature.SHARED) ? LockMode.SHARED : LockMode.EXCLUSIVE;
        Optional<LockHandle> probe = tryAcquire(real, probeMode);
        probe.ifPresent(LockHandle::close);
        LockStatus.Holder holder;
        if (probe.isPresent()) {
            holder = LockStatus.Holder.NOBODY;
        } else {
            // the try failed: another process, unless a holder of this JVM came in meanwhile
            holder = table.holder(real) == LockTable.LocalHolder.NOBODY
                    ? LockStatus.Holder.ANOTHER_PROCESS
                    : LockStatus.Holder.THIS_PROCESS;
        }
        return new LockStatus(real, holder, chosen.readOwner(real));
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

    private LockProvider providerFor(Path realLockPath) {
        if (provider != null) {
            return provider;
        }
        Path directory = realLockPath.getParent();
        LockProvider known = byDirectory.get(directory);
        if (known != null) {
            return known;
        }
        LockProvider chosen = strategy.choose(directory).provider();
        if (byDirectory.size() >= MAX_REMEMBERED_DIRECTORIES) {
            byDirectory.clear();
        }
        byDirectory.put(directory, chosen);
        return chosen;
    }

    private static void requireOptions(LockOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("lock options must not be null; use LockOptions.exclusive()");
        }
    }

    private static void requireMode(LockProvider chosen, Path real, LockMode mode) {
        if (mode == LockMode.SHARED && !chosen.features().contains(LockFeature.SHARED)) {
            throw new LockException(
                    "provider '" + chosen.name() + "' cannot take shared locks (asked for " + real
                            + "); acquire it exclusively or choose a provider with shared locks",
                    real,
                    null);
        }
    }

    private static Handle handle(LockTable.Grant grant, Object event) {
        Handle handle = new Handle(grant);
        LockEvents.acquired(event, grant.path(), grant.providerName(), grant.mode(), handle.fencingToken());
        return handle;
    }

    private static Path existingDirectory(Path directory) {
        try {
            createPrivateDirectories(directory.toAbsolutePath().normalize());
        } catch (IOException e) {
            throw new LockIOException("create lock directory", directory, "check the permissions of its parent", e);
        }
        return directory;
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
                Object event = LockEvents.releaseBegun();
                try {
                    grant.release();
                } finally {
                    LockEvents.released(
                            event, grant.path(), grant.providerName(), grant.mode(), System.nanoTime() - grantedAt);
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
