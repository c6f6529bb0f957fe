package dev.lockcache.lock.ofd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import dev.lockcache.lock.spi.FileIdentity;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * The libc calls the OFD mechanism makes, with errno turned into results or {@link IOException}s that name the
 * path and say what to do. libc is bound through JNA on first use; {@link #loadFailure()} says whether that
 * worked and why not.
 */
final class OfdSyscalls {

    // <bits/fcntl-linux.h>: the same numbers on every Linux architecture (asm-generic).
    static final int F_OFD_GETLK = 36;
    static final int F_OFD_SETLK = 37;
    static final int F_OFD_SETLKW = 38;
    static final short F_RDLCK = 0;
    static final short F_WRLCK = 1;
    static final short F_UNLCK = 2;
    static final short SEEK_SET = 0;
    // <asm-generic/fcntl.h> (x86_64, riscv64); arm64 differs for O_DIRECTORY and O_NOFOLLOW.
    static final int O_RDONLY = 0;
    static final int O_RDWR = 02;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;
    static final int O_DIRECTORY = Platform.ARCH.equals("aarch64") ? 040000 : 0200000;
    static final int O_NOFOLLOW = Platform.ARCH.equals("aarch64") ? 0100000 : 0400000;
    // <linux/fcntl.h>, <linux/stat.h>
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    static final int AT_EMPTY_PATH = 0x1000;
    static final int STATX_BASIC_STATS = 0x7ff;
    static final int STATX_SIZE = 256;
    // <asm-generic/errno*.h>
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EEXIST = 17;
    static final int EINVAL = 22;
    static final int EROFS = 30;
    static final int ENOLCK = 37;
    static final int ELOOP = 40;
    static final int EOPNOTSUPP = 95;

    /** The architectures whose constants above were checked (JNA's names). */
    static final Set<String> CHECKED_ARCHITECTURES = Set.of("x86-64", "aarch64", "riscv64");

    private static final FlockLayout LAYOUT = FlockLayout.LP64;
    private static final ThreadLocal<Memory> FLOCK = ThreadLocal.withInitial(() -> new Memory(LAYOUT.size()));
    private static final ThreadLocal<Memory> STATX = ThreadLocal.withInitial(() -> new Memory(STATX_SIZE));

    /**
     * libc as JNA maps it, only the calls this mechanism needs. Direct mapping (static natives bound by {@link
     * Native#register}) rather than an interface proxy: measured about 3x cheaper per call.
     */
    static final class CLibrary {
        private CLibrary() {}

        static native int open(String path, int flags, int mode) throws LastErrorException;

        static native int openat(int dirfd, String path, int flags, int mode) throws LastErrorException;

        static native int statx(int dirfd, String path, int flags, int mask, Pointer buffer) throws LastErrorException;

        static native int fchmod(int fd, int mode) throws LastErrorException;

        static native int close(int fd) throws LastErrorException;

        static native int fcntl(int fd, int cmd, Pointer flock) throws LastErrorException;

        static native long pread(int fd, byte[] buffer, long count, long offset) throws LastErrorException;

        static native long pwrite(int fd, byte[] buffer, long count, long offset) throws LastErrorException;

        static native long pthread_self();

        static native int pthread_kill(long thread, int signal);
    }

    /** Binds libc once, on first use, and remembers why it could not. */
    private static final class Loaded {
        static final String FAILURE;

        static {
            String failure = null;
            try {
                if (!Platform.isLinux()) {
                    failure =
                            "open-file-description locks exist only on Linux, this is " + System.getProperty("os.name");
                } else if (!Platform.is64Bit() || !CHECKED_ARCHITECTURES.contains(Platform.ARCH)) {
                    failure = "the fcntl constants and struct layouts are checked only for 64-bit "
                            + CHECKED_ARCHITECTURES + ", this is " + Platform.ARCH;
                } else {
                    Native.register(CLibrary.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
                }
            } catch (LinkageError | RuntimeException e) {
                failure = "JNA cannot bind libc: " + e;
            }
            FAILURE = failure;
        }
    }

    private OfdSyscalls() {}

    /** Empty when libc is loaded, else why not. */
    static Optional<String> loadFailure() {
        try {
            return Optional.ofNullable(Loaded.FAILURE);
        } catch (LinkageError e) {
            return Optional.of("JNA is not usable here: " + e);
        }
    }

    /** Opens a directory (following the path as it is now), close-on-exec. */
    static int openDirectory(Path path) throws IOException {
        while (true) {
            try {
                return CLibrary.open(path.toString(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw failure("open directory", path, e.getErrorCode(), "");
                }
            }
        }
    }

    /** {@code openat} with {@code O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC} added. */
    static int openAt(int dirfd, String name, int flags, int mode, Path path) throws IOException {
        while (true) {
            try {
                return CLibrary.openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw failure("open lock file", path, e.getErrorCode(), "");
                }
            }
        }
    }

    /** {@code fstat} of {@code fd} (through {@code statx}, whose layout is the same on every architecture). */
    static FileIdentity fstat(int fd, Path path) throws IOException {
        return statx(fd, "", AT_EMPTY_PATH, path).orElseThrow(() -> new NoSuchFileException(path.toString()));
    }

    /** {@code fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)}; empty when the name does not exist. */
    static Optional<FileIdentity> lstatAt(int dirfd, String name, Path path) throws IOException {
        return statx(dirfd, name, AT_SYMLINK_NOFOLLOW, path);
    }

    private static Optional<FileIdentity> statx(int dirfd, String name, int flags, Path path) throws IOException {
        Memory buffer = STATX.get();
        try {
            CLibrary.statx(dirfd, name, flags, STATX_BASIC_STATS, buffer);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ENOENT) {
                return Optional.empty();
            }
            throw failure("stat", path, e.getErrorCode(), "");
        }
        long device = ((long) buffer.getInt(136) << 32) | (buffer.getInt(140) & 0xffffffffL);
        return Optional.of(new FileIdentity(
                device,
                buffer.getLong(32),
                buffer.getShort(28) & 0xffff,
                buffer.getInt(16) & 0xffffffffL,
                buffer.getInt(20) & 0xffffffffL,
                buffer.getLong(40)));
    }

    static void fchmod(int fd, int mode, Path path) throws IOException {
        try {
            CLibrary.fchmod(fd, mode);
        } catch (LastErrorException e) {
            throw failure("set the mode of", path, e.getErrorCode(), "");
        }
    }

    /** Closes {@code fd}, ignoring errors: by then nothing depends on it (OFD locks die with the description). */
    static void closeQuietly(int fd) {
        try {
            CLibrary.close(fd);
        } catch (LastErrorException e) {
            // EBADF cannot happen for a descriptor we own; EIO on close of a lock file loses no data we need.
        }
    }

    /**
     * Takes an OFD lock of {@code type} on the whole file. Non-blocking: {@code false} when another description
     * holds a conflicting lock. Blocking: {@code false} when a signal ended the wait ({@code EINTR}).
     */
    static boolean setLock(int fd, short type, boolean blocking, Path path) throws IOException {
        Memory flock = FLOCK.get();
        fill(flock, type);
        int command = blocking ? F_OFD_SETLKW : F_OFD_SETLK;
        while (true) {
            try {
                CLibrary.fcntl(fd, command, flock);
                return true;
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == EINTR) {
                    if (blocking) {
                        return false;
                    }
                    continue;
                }
                if (!blocking && isContended(errno) && type != F_UNLCK) {
                    return false;
                }
                throw failure(type == F_UNLCK ? "unlock" : "lock", path, errno, hint(errno));
            }
        }
    }

    /** Whether an OFD lock of {@code type} would be granted now on {@code fd} ({@code F_OFD_GETLK}). */
    static boolean wouldGrant(int fd, short type, Path path) throws IOException {
        Memory flock = FLOCK.get();
        fill(flock, type);
        try {
            CLibrary.fcntl(fd, F_OFD_GETLK, flock);
        } catch (LastErrorException e) {
            throw failure("test lock", path, e.getErrorCode(), hint(e.getErrorCode()));
        }
        return flock.getShort(LAYOUT.typeOffset()) == F_UNLCK;
    }

    private static void fill(Memory flock, short type) {
        flock.clear();
        flock.setShort(LAYOUT.typeOffset(), type);
        flock.setShort(LAYOUT.whenceOffset(), SEEK_SET);
        flock.setLong(LAYOUT.startOffset(), 0); // from the start...
        flock.setLong(LAYOUT.lenOffset(), 0); // ...to the end of the file, however it grows
        flock.setInt(LAYOUT.pidOffset(), 0); // must be 0 for OFD locks
    }

    /** Whether {@code errno} from a non-blocking attempt means "someone else holds it". */
    static boolean isContended(int errno) {
        return errno == EAGAIN || errno == EACCES;
    }

    /** Whether {@code errno} means the filesystem or kernel does not do OFD locks. */
    static boolean isUnsupported(int errno) {
        return errno == ENOLCK || errno == EINVAL || errno == EOPNOTSUPP;
    }

    static String hint(int errno) {
        if (isUnsupported(errno)) {
            return "this filesystem (or kernel) does not support OFD locks; use the exclusive-create provider here";
        }
        return "";
    }

    /** Reads up to {@code buffer.length} bytes at {@code position} in one call; returns the count read. */
    static int pread(int fd, byte[] buffer, long position, Path path) throws IOException {
        while (true) {
            try {
                return (int) CLibrary.pread(fd, buffer, buffer.length, position);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw failure("read owner record", path, e.getErrorCode(), "");
                }
            }
        }
    }

    /** Writes all of {@code bytes} at {@code position}. */
    static void pwrite(int fd, byte[] bytes, long position, Path path) throws IOException {
        long written = 0;
        while (written < bytes.length) {
            byte[] rest = written == 0 ? bytes : java.util.Arrays.copyOfRange(bytes, (int) written, bytes.length);
            try {
                written += CLibrary.pwrite(fd, rest, rest.length, position + written);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw failure("write owner record", path, e.getErrorCode(), "is the disk full?");
                }
            }
        }
    }

    /** An {@link IOException} of the kind the JDK would throw, naming the path, the call and errno. */
    static IOException failure(String operation, Path path, int errno, String hint) {
        String what = operation + " failed: " + describe(errno) + (hint.isEmpty() ? "" : "; " + hint);
        String file = path.toString();
        return switch (errno) {
            case ENOENT -> new NoSuchFileException(file, null, what);
            case EEXIST -> new FileAlreadyExistsException(file, null, what);
            case EACCES, EPERM, EROFS -> new AccessDeniedException(file, null, what);
            case ELOOP ->
                new FileSystemException(
                        file,
                        null,
                        operation + " refused a symbolic link: lockcache never follows a link at a lock path");
            default -> new OfdCallException(file, what, errno);
        };
    }

    /** The C library's words for the errno values these calls return, with the symbolic name. */
    static String describe(int errno) {
        String words = switch (errno) {
            case EPERM -> "Operation not permitted (EPERM)";
            case ENOENT -> "No such file or directory (ENOENT)";
            case EINTR -> "Interrupted system call (EINTR)";
            case EAGAIN -> "Resource temporarily unavailable (EAGAIN)";
            case EACCES -> "Permission denied (EACCES)";
            case EEXIST -> "File exists (EEXIST)";
            case EINVAL -> "Invalid argument (EINVAL)";
            case EROFS -> "Read-only file system (EROFS)";
            case ENOLCK -> "No locks available (ENOLCK)";
            case ELOOP -> "Too many levels of symbolic links (ELOOP)";
            case EOPNOTSUPP -> "Operation not supported (EOPNOTSUPP)";
            default -> "errno " + errno;
        };
        return words;
    }

    /** A failed libc call: keeps errno so callers can tell "unsupported" from other failures. */
    static final class OfdCallException extends FileSystemException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        OfdCallException(String file, String reason, int errno) {
            super(file, null, reason);
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }
}
