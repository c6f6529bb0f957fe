package dev.lockcache.lock.nio;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.DirectoryTrust;
import dev.lockcache.lock.spi.FileIdentity;
import dev.lockcache.lock.spi.KernelDirectory;
import dev.lockcache.lock.spi.KernelFile;
import dev.lockcache.lock.spi.KernelMechanism;
import dev.lockcache.lock.spi.Mechanism;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Classic POSIX {@code fcntl} locks through {@link FileChannel} (and {@code LockFileEx} on Windows), as the system
 * calls of {@link dev.lockcache.lock.spi.KernelLockProvider}. Public so that a composite ({@code double}) can hold
 * it beside flock.
 *
 * <p>Pure Java, so some calls are approximations, said here plainly: a {@link FileChannel} cannot {@code fstat},
 * so the identity of an open file is {@code lstat} of its name, taken right after opening; opens are by path,
 * never following a link at the last component (a name is checked with {@code lstat} to be a regular file before
 * it is opened, and files are created with {@code CREATE_NEW} and {@code NOFOLLOW_LINKS}), which is safe because
 * the base opens only in directories nobody else may change ({@link DirectoryTrust}) or, in a sticky directory,
 * files nobody else may replace. Owner records are read and written through {@link RandomAccessFile}, whose I/O an
 * interrupt does not abort (an interrupted {@code FileChannel} read would close the channel and with it drop every
 * fcntl lock this process holds on the file).
 *
 * <p>A blocking wait is {@link FileChannel#lock} in the caller's thread; a timer closes the channel at the
 * deadline and an interrupt closes it too. Closing drops nothing anyone depends on: the in-JVM table lets a
 * thread wait only while no thread of this JVM holds the path. The base then drops the closed file.
 */
public final class FcntlMechanism implements KernelMechanism {
    private static final boolean POSIX = DirectoryTrust.posix();
    private static final ScheduledThreadPoolExecutor TIMER = newTimer();
    /** How often a try or a release that a signal interrupted is made again before the caller hears of it. */
    private static final int INTERRUPTED_TRIES = 16;

    @Override
    public Set<Mechanism> mechanisms() {
        return Set.of(Mechanism.FCNTL);
    }

    @Override
    public boolean perOpenFile() {
        return false;
    }

    @Override
    public KernelDirectory openDirectory(Path directory) {
        return new Directory(directory);
    }

    static Optional<FileIdentity> lstat(Path path) throws IOException {
        if (!POSIX) {
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            boolean regular = Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS);
            boolean directory = Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
            int type = regular ? 0100000 : directory ? 0040000 : 0120000;
            return Optional.of(new FileIdentity(0, 0, type | 0700, 1, -1, regular ? Files.size(path) : 0));
        }
        try {
            Map<String, Object> a =
                    Files.readAttributes(path, "unix:dev,ino,mode,nlink,uid,size", LinkOption.NOFOLLOW_LINKS);
            return Optional.of(new FileIdentity(
                    ((Number) a.get("dev")).longValue(),
                    ((Number) a.get("ino")).longValue(),
                    (Integer) a.get("mode"),
                    ((Number) a.get("nlink")).longValue(),
                    ((Number) a.get("uid")).longValue(),
                    ((Number) a.get("size")).longValue()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static final class Directory implements KernelDirectory {
        private final Path path;
        /** Whether the kernel records this directory's fcntl locks in {@code /proc/locks} (see {@link ProcLocks}). */
        private final boolean locksListed;

        Directory(Path path) {
            this.path = path;
            this.locksListed = POSIX && ProcLocks.listsLocksOf(path);
        }

        @Override
        public FileIdentity identity() throws IOException {
            return lstat(path).orElseThrow(() -> new NoSuchFileException(path.toString()));
        }

        /**
         * Opens {@code name}, and learns which file was opened without {@code fstat}: the name's identity just
         * before and just after the open must agree (a file that is open cannot lose its inode number to another),
         * or the open is retried by the caller as if the file had vanished.
         */
        @Override
        public KernelFile open(String name, OpenMode mode, int createMode) throws IOException {
            Path file = path.resolve(name);
            if (mode == OpenMode.CREATE_NEW) {
                // create without following anything; RandomAccessFile (whose I/O is not interruptible) opens it next
                Files.newByteChannel(
                                file,
                                StandardOpenOption.CREATE_NEW,
                                StandardOpenOption.WRITE,
                                LinkOption.NOFOLLOW_LINKS)
                        .close();
            }
            Optional<FileIdentity> before = lstat(file);
            if (before.isEmpty()) {
                throw new NoSuchFileException(file.toString());
            }
            if (!before.get().regularFile()) {
                throw new FileSystemException(
                        file.toString(), null, "is " + before.get().kind() + ", not a regular file: not opened");
            }
            boolean writable = mode != OpenMode.READ_ONLY;
            RandomAccessFile opened;
            try {
                opened = new RandomAccessFile(file.toFile(), writable ? "rw" : "r");
            } catch (FileNotFoundException e) {
                if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                    throw new NoSuchFileException(file.toString());
                }
                if (!Files.isWritable(file) || file.getFileSystem().isReadOnly()) {
                    throw new AccessDeniedException(file.toString(), null, e.getMessage());
                }
                throw new FileSystemException(file.toString(), null, e.getMessage());
            }
            Optional<FileIdentity> after;
            try {
                after = lstat(file);
            } catch (IOException | RuntimeException e) {
                opened.close();
                throw e;
            }
            if (after.isEmpty() || !after.get().sameFile(before.get())) {
                opened.close(); // a file that carries no lock of ours: closing it drops nothing
                throw new NoSuchFileException(file.toString(), null, "replaced while it was being opened");
            }
            return new FcntlFile(file, opened, writable, after.get(), locksListed);
        }

        @Override
        public Optional<FileIdentity> identityOf(String name) throws IOException {
            return lstat(path.resolve(name));
        }

        @Override
        public void close() {}
    }

    /** One open lock file: a {@link RandomAccessFile} for record I/O and its channel for the lock. */
    private static final class FcntlFile implements KernelFile {
        private final Path path;
        private final RandomAccessFile file;
        private final FileChannel channel;
        private final boolean writable;
        private final FileIdentity opened;
        private final boolean locksListed;
        private volatile FileLock lock;

        FcntlFile(Path path, RandomAccessFile file, boolean writable, FileIdentity opened, boolean locksListed) {
            this.path = path;
            this.file = file;
            this.channel = file.getChannel();
            this.writable = writable;
            this.opened = opened;
            this.locksListed = locksListed;
        }

        @Override
        public FileIdentity identity() {
            return opened; // as the name said right after opening: a FileChannel cannot fstat
        }

        @Override
        public boolean writable() {
            return writable;
        }

        private void requireWritableFor(LockMode mode) throws AccessDeniedException {
            if (mode == LockMode.EXCLUSIVE && !writable) {
                throw new AccessDeniedException(
                        path.toString(),
                        null,
                        "the lock file is read-only for this process, and an exclusive fcntl lock needs write access;"
                                + " ask for a shared lock, or make the file writable");
            }
        }

        /**
         * One {@link FileChannel#tryLock}, confirmed in {@link ProcLocks}: a try that {@code EINTR} interrupted
         * comes back from the JDK as a lock, which is dropped (it is not held) and tried again, as the JDK's own
         * blocking {@code lock} does.
         */
        @Override
        public boolean tryLock(LockMode mode) throws IOException {
            requireWritableFor(mode);
            boolean shared = mode == LockMode.SHARED;
            for (int attempt = 0; attempt < INTERRUPTED_TRIES; attempt++) {
                FileLock taken;
                try {
                    taken = channel.tryLock(0, Long.MAX_VALUE, shared);
                } catch (OverlappingFileLockException e) {
                    return false; // another channel of this JVM holds it (another provider on this file)
                }
                if (taken == null) {
                    return false;
                }
                if (!locksListed || ProcLocks.instance().confirms(opened, shared)) {
                    lock = taken;
                    return true;
                }
                release(taken); // the JDK's record of a lock the kernel never gave
            }
            return false; // interrupted every time: as good as busy, the caller's wait loop tries again
        }

        @Override
        public boolean lock(LockMode mode, long timeoutNanos) throws IOException, InterruptedException {
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted before waiting for lock " + path);
            }
            requireWritableFor(mode);
            java.util.concurrent.atomic.AtomicBoolean expired = new java.util.concurrent.atomic.AtomicBoolean();
            ScheduledFuture<?> timer = timeoutNanos == Long.MAX_VALUE
                    ? null
                    : TIMER.schedule(
                            () -> {
                                expired.set(true);
                                closeQuietly();
                            },
                            timeoutNanos,
                            TimeUnit.NANOSECONDS);
            try {
                lock = channel.lock(0, Long.MAX_VALUE, mode == LockMode.SHARED);
                return true;
            } catch (ClosedByInterruptException | FileLockInterruptionException e) {
                Thread.interrupted();
                throw new InterruptedException("interrupted while waiting for lock " + path);
            } catch (AsynchronousCloseException e) {
                if (expired.get()) {
                    return false;
                }
                throw e;
            } catch (ClosedChannelException e) {
                if (expired.get()) {
                    return false; // the timer fired before lock() began
                }
                throw e;
            } catch (OverlappingFileLockException e) {
                throw new FileSystemException(
                        path.toString(), null, "another channel of this JVM holds a lock on this file (" + e + ")");
            } finally {
                if (timer != null) {
                    timer.cancel(false);
                }
            }
        }

        @Override
        public void unlock() throws IOException {
            FileLock held = lock;
            lock = null;
            if (held != null) {
                release(held);
            }
        }

        /**
         * Releases {@code held}, again if the call fails: a failed {@code F_UNLCK} (such as {@code EINTR}) leaves
         * the lock held and still registered with the JDK, and a lock left behind would stall every other process.
         */
        private static void release(FileLock held) throws IOException {
            for (int attempt = 1; held.isValid(); attempt++) {
                try {
                    held.release();
                } catch (ClosedChannelException e) {
                    return; // closing the channel dropped it
                } catch (IOException e) {
                    if (attempt >= INTERRUPTED_TRIES) {
                        throw e;
                    }
                }
            }
        }

        @Override
        public int read(byte[] buffer, long position) throws IOException {
            synchronized (file) {
                file.seek(position);
                int n = file.read(buffer, 0, buffer.length);
                return Math.max(n, 0);
            }
        }

        @Override
        public void write(byte[] bytes, long position) throws IOException {
            synchronized (file) {
                file.seek(position);
                file.write(bytes);
            }
        }

        @Override
        public void restrictMode(int mode) throws IOException {
            if (POSIX) {
                Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setPermissions(DirectoryTrust.permissions(mode));
            }
        }

        @Override
        public boolean isOpen() {
            return channel.isOpen();
        }

        @Override
        public void close() {
            closeQuietly();
        }

        private void closeQuietly() {
            try {
                file.close();
            } catch (IOException e) {
                // nothing we could keep
            }
        }
    }

    private static ScheduledThreadPoolExecutor newTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "lockcache-fcntl-wait-timer");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }
}
