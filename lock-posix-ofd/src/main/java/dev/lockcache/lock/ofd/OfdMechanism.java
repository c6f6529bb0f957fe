package dev.lockcache.lock.ofd;

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

/**
 * Linux open-file-description locks ({@code F_OFD_SETLK[W]}) as the system calls of {@link
 * dev.lockcache.lock.spi.KernelLockProvider}: {@code openat} relative to the lock directory with {@code
 * O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC}, {@code statx} for identities, {@code fchmod}, {@code pread}/{@code pwrite}.
 * A blocking wait runs in the caller's thread and is woken by {@link NativeWait}'s signal.
 */
final class OfdMechanism implements KernelMechanism {

    @Override
    public Set<Mechanism> mechanisms() {
        return Set.of(Mechanism.OFD);
    }

    @Override
    public boolean perOpenFile() {
        return true;
    }

    @Override
    public KernelDirectory openDirectory(Path directory) throws IOException {
        return new Directory(directory, OfdSyscalls.openDirectory(directory));
    }

    private static final class Directory implements KernelDirectory {
        private final Path path;
        private final int fd;

        Directory(Path path, int fd) {
            this.path = path;
            this.fd = fd;
        }

        @Override
        public FileIdentity identity() throws IOException {
            return OfdSyscalls.fstat(fd, path);
        }

        @Override
        public KernelFile open(String name, OpenMode mode, int createMode) throws IOException {
            Path file = path.resolve(name);
            int flags = switch (mode) {
                case CREATE_NEW -> OfdSyscalls.O_RDWR | OfdSyscalls.O_CREAT | OfdSyscalls.O_EXCL;
                case READ_WRITE -> OfdSyscalls.O_RDWR;
                case READ_ONLY -> OfdSyscalls.O_RDONLY;
            };
            int opened = OfdSyscalls.openAt(fd, name, flags, createMode, file);
            return new OfdFile(file, opened, mode != OpenMode.READ_ONLY);
        }

        @Override
        public Optional<FileIdentity> identityOf(String name) throws IOException {
            return OfdSyscalls.lstatAt(fd, name, path.resolve(name));
        }

        @Override
        public void close() {
            OfdSyscalls.closeQuietly(fd);
        }
    }

    private static final class OfdFile implements KernelFile, NativeWait.ThreadSignals {
        private final Path path;
        private final int fd;
        private final boolean writable;

        OfdFile(Path path, int fd, boolean writable) {
            this.path = path;
            this.fd = fd;
            this.writable = writable;
        }

        @Override
        public FileIdentity identity() throws IOException {
            return OfdSyscalls.fstat(fd, path);
        }

        @Override
        public boolean writable() {
            return writable;
        }

        private static short type(LockMode mode) {
            return mode == LockMode.SHARED ? OfdSyscalls.F_RDLCK : OfdSyscalls.F_WRLCK;
        }

        /** An exclusive OFD lock needs a descriptor open for writing (else {@code EBADF}): say so plainly. */
        private void requireWritableFor(LockMode mode) throws java.nio.file.AccessDeniedException {
            if (mode == LockMode.EXCLUSIVE && !writable) {
                throw new java.nio.file.AccessDeniedException(
                        path.toString(),
                        null,
                        "the lock file is read-only for this process, and an exclusive OFD lock needs write access;"
                                + " ask for a shared lock, or make the file writable");
            }
        }

        @Override
        public boolean tryLock(LockMode mode) throws IOException {
            requireWritableFor(mode);
            return OfdSyscalls.setLock(fd, type(mode), false, path);
        }

        @Override
        public boolean lock(LockMode mode, long timeoutNanos) throws IOException, InterruptedException {
            requireWritableFor(mode);
            if (NativeWait.usable()) {
                return NativeWait.block(this, timeoutNanos, () -> OfdSyscalls.setLock(fd, type(mode), true, path));
            }
            return NativeWait.poll(timeoutNanos, () -> {
                try {
                    return OfdSyscalls.setLock(fd, type(mode), false, path);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }

        @Override
        public void unlock() throws IOException {
            OfdSyscalls.setLock(fd, OfdSyscalls.F_UNLCK, false, path);
        }

        @Override
        public int read(byte[] buffer, long position) throws IOException {
            return OfdSyscalls.pread(fd, buffer, position, path);
        }

        @Override
        public void write(byte[] bytes, long position) throws IOException {
            OfdSyscalls.pwrite(fd, bytes, position, path);
        }

        @Override
        public void restrictMode(int mode) throws IOException {
            OfdSyscalls.fchmod(fd, mode, path);
        }

        @Override
        public OptionalInt descriptor() {
            return OptionalInt.of(fd);
        }

        @Override
        public void close() {
            OfdSyscalls.closeQuietly(fd);
        }

        @Override
        public long currentThread() {
            return OfdSyscalls.CLibrary.pthread_self();
        }

        @Override
        public void wake(long thread) {
            OfdSyscalls.CLibrary.pthread_kill(thread, NativeWait.WAKE_SIGNAL);
        }
    }
}
