package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.FileIdentity;
import dev.lockcache.lock.spi.KernelDirectory;
import dev.lockcache.lock.spi.KernelFile;
import dev.lockcache.lock.spi.KernelMechanism;
import dev.lockcache.lock.spi.Mechanism;
import dev.lockcache.lock.spi.NativeWait;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import jnr.constants.platform.Errno;
import jnr.constants.platform.OpenFlags;
import jnr.posix.FileStat;

/**
 * {@code flock(2)}'s system calls for {@link dev.lockcache.lock.spi.KernelLockProvider}: opens relative to the
 * lock directory's descriptor ({@code openat} with {@code O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC}), {@code fstat},
 * {@code flock}, {@code pread}/{@code pwrite}, {@code fchmod}. A blocking flock runs in the caller's thread and
 * is woken by {@link NativeWait}'s signal at its deadline or on interrupt; where that signal is not usable, a
 * wait polls. Public so that a composite ({@code double}) can hold it beside another mechanism.
 */
public final class FlockMechanism implements KernelMechanism {
    private static final int BASE_FLAGS =
            OpenFlags.O_NOFOLLOW.intValue() | OpenFlags.O_NONBLOCK.intValue() | OpenFlags.O_CLOEXEC.intValue();

    private final NativeFlock flock;

    /** The mechanism over this JVM's native flock; only when {@link FlockLockProvider} says it is available. */
    public FlockMechanism() {
        this.flock = NativeFlock.get();
    }

    @Override
    public Set<Mechanism> mechanisms() {
        return Set.of(Mechanism.FLOCK);
    }

    @Override
    public boolean perOpenFile() {
        return true;
    }

    @Override
    public boolean exclusiveNeedsWrite() {
        return false; // flock(2) takes LOCK_EX on a read-only descriptor
    }

    @Override
    public KernelDirectory openDirectory(Path directory) throws IOException {
        int flags = OpenFlags.O_RDONLY.intValue() | OpenFlags.O_DIRECTORY.intValue() | OpenFlags.O_CLOEXEC.intValue();
        int fd = flock.posix.open(directory.toString(), flags, 0);
        if (fd < 0) {
            throw NativeFlock.failure("open directory", directory, flock.posix.errno());
        }
        return new Directory(directory, fd);
    }

    private FileIdentity fstat(int fd, Path path) throws IOException {
        FileStat stat = flock.posix.allocateStat();
        if (flock.posix.fstat(fd, stat) != 0) {
            throw NativeFlock.failure("fstat", path, flock.posix.errno());
        }
        return identity(stat);
    }

    private static FileIdentity identity(FileStat stat) {
        return new FileIdentity(stat.dev(), stat.ino(), stat.mode(), stat.nlink(), stat.uid(), stat.st_size());
    }

    private final class Directory implements KernelDirectory {
        private final Path path;
        private final String prefix;
        private final int fd;

        Directory(Path path, int fd) {
            this.path = path;
            this.prefix = path.toString().endsWith("/") ? path.toString() : path + "/";
            this.fd = fd;
        }

        @Override
        public FileIdentity identity() throws IOException {
            return fstat(fd, path);
        }

        @Override
        public KernelFile open(String name, OpenMode mode, int createMode) throws IOException {
            Path file = path.resolve(name);
            int flags = BASE_FLAGS
                    | switch (mode) {
                        case CREATE_NEW ->
                            OpenFlags.O_RDWR.intValue() | OpenFlags.O_CREAT.intValue() | OpenFlags.O_EXCL.intValue();
                        case READ_WRITE -> OpenFlags.O_RDWR.intValue();
                        case READ_ONLY -> OpenFlags.O_RDONLY.intValue();
                    };
            while (true) {
                int opened = flock.libc.openat(fd, name, flags, createMode);
                if (opened >= 0) {
                    return new FlockFile(file, opened, mode != OpenMode.READ_ONLY);
                }
                int errno = flock.lastError();
                if (errno != Errno.EINTR.intValue()) {
                    throw NativeFlock.failure("open", file, errno);
                }
            }
        }

        @Override
        public Optional<FileIdentity> identityOf(String name) throws IOException {
            FileStat stat = flock.posix.allocateStat();
            // lstat of the name in this judged directory: only its owner (or root) can change what it names
            if (flock.posix.lstat(prefix + name, stat) != 0) {
                int errno = flock.posix.errno();
                if (errno == Errno.ENOENT.intValue()) {
                    return Optional.empty();
                }
                throw NativeFlock.failure("lstat", path.resolve(name), errno);
            }
            return Optional.of(FlockMechanism.identity(stat));
        }

        @Override
        public void close() {
            flock.posix.close(fd);
        }
    }

    /** One open lock file: a descriptor whose open file description carries the flock lock. */
    private final class FlockFile implements KernelFile, NativeWait.ThreadSignals {
        private final Path path;
        private final int fd;
        private final boolean writable;

        FlockFile(Path path, int fd, boolean writable) {
            this.path = path;
            this.fd = fd;
            this.writable = writable;
        }

        @Override
        public FileIdentity identity() throws IOException {
            return fstat(fd, path);
        }

        @Override
        public boolean writable() {
            return writable;
        }

        @Override
        public boolean tryLock(LockMode mode) throws IOException {
            return flock.lock(fd, mode, false, path);
        }

        @Override
        public boolean lock(LockMode mode, long timeoutNanos) throws IOException, InterruptedException {
            if (flock.signalsUsable) {
                return NativeWait.block(this, timeoutNanos, () -> flock.lock(fd, mode, true, path));
            }
            return NativeWait.poll(timeoutNanos, () -> {
                try {
                    return flock.lock(fd, mode, false, path);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }

        @Override
        public void unlock() throws IOException {
            flock.unlock(fd, path);
        }

        @Override
        public int read(byte[] buffer, long position) throws IOException {
            while (true) {
                long n = flock.posix.pread(fd, buffer, (long) buffer.length, position);
                if (n >= 0) {
                    return (int) n;
                }
                int errno = flock.posix.errno();
                if (errno != Errno.EINTR.intValue()) {
                    throw NativeFlock.failure("read owner record", path, errno);
                }
            }
        }

        @Override
        public void write(byte[] bytes, long position) throws IOException {
            long written = 0;
            while (written < bytes.length) {
                byte[] rest = written == 0 ? bytes : java.util.Arrays.copyOfRange(bytes, (int) written, bytes.length);
                long n = flock.posix.pwrite(fd, rest, (long) rest.length, position + written);
                if (n < 0) {
                    int errno = flock.posix.errno();
                    if (errno == Errno.EINTR.intValue()) {
                        continue;
                    }
                    throw NativeFlock.failure("write owner record", path, errno);
                }
                written += n;
            }
        }

        @Override
        public void restrictMode(int mode) throws IOException {
            if (flock.posix.fchmod(fd, mode) != 0) {
                throw NativeFlock.failure("fchmod", path, flock.posix.errno());
            }
        }

        @Override
        public OptionalInt descriptor() {
            return OptionalInt.of(fd);
        }

        @Override
        public void close() {
            flock.posix.close(fd);
        }

        @Override
        public long currentThread() {
            return flock.libc.pthread_self();
        }

        @Override
        public void wake(long thread) {
            flock.libc.pthread_kill(thread, NativeWait.WAKE_SIGNAL);
        }
    }
}
