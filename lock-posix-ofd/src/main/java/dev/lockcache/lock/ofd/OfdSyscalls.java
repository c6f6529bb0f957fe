package dev.lockcache.lock.ofd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * The few libc calls the provider makes, with errno turned into results or {@link IOException}s that name the
 * path. libc is bound through JNA on first use; {@link #loadFailure()} says whether that worked and why not.
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
    // <asm-generic/fcntl.h>, as used by x86_64, aarch64 and riscv64.
    static final int O_RDONLY = 0;
    static final int O_RDWR = 02;
    static final int O_CREAT = 0100;
    static final int O_CLOEXEC = 02000000;
    // <asm-generic/errno*.h>
    static final int EPERM = 1;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EINVAL = 22;
    static final int EROFS = 30;
    static final int ENOLCK = 37;
    static final int EOPNOTSUPP = 95;

    /** The architectures whose constants above were checked (JNA's names). */
    static final Set<String> CHECKED_ARCHITECTURES = Set.of("x86-64", "aarch64", "riscv64");

    private static final FlockLayout LAYOUT = FlockLayout.LP64;
    private static final ThreadLocal<Memory> FLOCK = ThreadLocal.withInitial(() -> new Memory(LAYOUT.size()));

    /**
     * libc as JNA maps it, only the calls this provider needs. Direct mapping (static natives bound by {@link
     * Native#register}) rather than an interface proxy: measured about 3x cheaper per call, and a lock and
     * release is two calls.
     */
    static final class CLibrary {
        private CLibrary() {}

        static native int open(String path, int flags, int mode) throws LastErrorException;

        static native int close(int fd) throws LastErrorException;

        static native int fcntl(int fd, int cmd, Pointer flock) throws LastErrorException;

        static native long pread(int fd, byte[] buffer, long count, long offset) throws LastErrorException;

        static native long pwrite(int fd, byte[] buffer, long count, long offset) throws LastErrorException;
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
                    failure = "the fcntl constants and struct flock layout are checked only for 64-bit "
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

    private static void requireLoaded() throws IOException {
        if (Loaded.FAILURE != null) {
            throw new IOException("OFD locks are unavailable: " + Loaded.FAILURE);
        }
    }

    /** Opens (creating if needed) {@code path} for reading and writing, close-on-exec. */
    static int open(Path path) throws IOException {
        requireLoaded();
        while (true) {
            try {
                return CLibrary.open(path.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw failure("open lock file", path, e, "check that the directory is writable");
                }
            }
        }
    }

    /** Opens an existing {@code path} read-only, close-on-exec: enough for shared (read) locks. */
    static int openReadOnly(Path path) throws IOException {
        requireLoaded();
        while (true) {
            try {
                return CLibrary.open(path.toString(), O_RDONLY | O_CLOEXEC, 0);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw failure("open lock file read-only", path, e, "check the permissions of the lock file");
                }
            }
        }
    }

    /** Whether a failed open was refused for lack of write permission (the file may still be readable). */
    static boolean notWritable(IOException e) {
        return e instanceof OfdCallException call
                && (call.errno() == EACCES || call.errno() == EPERM || call.errno() == EROFS);
    }

    /** Closes {@code fd}, ignoring errors: by then nothing depends on it (OFD locks die with the description). */
    static void closeQuietly(int fd) {
        try {
            requireLoaded();
            CLibrary.close(fd);
        } catch (LastErrorException | IOException e) {
            // EBADF cannot happen for a descriptor we own; EIO on close of a lock file loses no data we need.
        }
    }

    /**
     * Takes an OFD lock of {@code type} on the whole file, without waiting.
     *
     * @return true if taken, false if another description holds a conflicting lock
     */
    static boolean tryLock(int fd, short type, Path path) throws IOException {
        return setLock(fd, type, F_OFD_SETLK, path);
    }

    /** Waits in the kernel until the lock of {@code type} is taken (restarting after signals). */
    static void lockBlocking(int fd, short type, Path path) throws IOException {
        setLock(fd, type, F_OFD_SETLKW, path);
    }

    /** Drops this description's lock on the whole file. */
    static void unlock(int fd, Path path) throws IOException {
        setLock(fd, F_UNLCK, F_OFD_SETLK, path);
    }

    private static boolean setLock(int fd, short type, int command, Path path) throws IOException {
        requireLoaded();
        Memory flock = FLOCK.get();
        fill(flock, type);
        while (true) {
            try {
                CLibrary.fcntl(fd, command, flock);
                return true;
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == EINTR) {
                    continue;
                }
                if (isContended(errno) && command == F_OFD_SETLK) {
                    return false;
                }
                throw failure(type == F_UNLCK ? "unlock" : "lock", path, e, hint(errno));
            }
        }
    }

    /** Whether an OFD lock of {@code type} would be granted now on {@code fd} ({@code F_OFD_GETLK}). */
    static boolean wouldGrant(int fd, short type, Path path) throws IOException {
        requireLoaded();
        Memory flock = FLOCK.get();
        fill(flock, type);
        try {
            CLibrary.fcntl(fd, F_OFD_GETLK, flock);
        } catch (LastErrorException e) {
            throw failure("test lock", path, e, hint(e.getErrorCode()));
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

    /** Reads up to {@code buffer.length} bytes from offset 0 in one call; returns the count read. */
    static int readFromStart(int fd, byte[] buffer, Path path) throws IOException {
        requireLoaded();
        while (true) {
            try {
                return (int) CLibrary.pread(fd, buffer, buffer.length, 0);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw failure("read owner record", path, e, "");
                }
            }
        }
    }

    /** Writes {@code bytes} at offset 0 in one call; a short write is an error. */
    static void writeAtStart(int fd, byte[] bytes, Path path) throws IOException {
        requireLoaded();
        while (true) {
            try {
                long n = CLibrary.pwrite(fd, bytes, bytes.length, 0);
                if (n != bytes.length) {
                    throw new IOException("short write of owner record to " + path + ": " + n + " of " + bytes.length
                            + " bytes; is the disk full?");
                }
                return;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw failure("write owner record", path, e, "is the disk full?");
                }
            }
        }
    }

    /** An {@link IOException} for a failed call, with errno, the path and what to do. */
    static OfdCallException failure(String operation, Path path, LastErrorException e, String hint) {
        return new OfdCallException(operation, path, e.getErrorCode(), hint, e);
    }

    /** A failed libc call: keeps errno so callers can tell "unsupported" from other failures. */
    static final class OfdCallException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        OfdCallException(String operation, Path path, int errno, String hint, Throwable cause) {
            super(
                    operation + " " + path + " failed: " + cause.getMessage() + (hint.isEmpty() ? "" : "; " + hint),
                    cause);
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }
}
