package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.Availability;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import jnr.constants.platform.Errno;
import jnr.constants.platform.OpenFlags;
import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.POSIXHandler;

/**
 * {@code flock(2)} and the few other calls it needs, through jnr-posix's native POSIX only (never its pure-Java
 * fallback, which has no flock). Loaded once per JVM; {@link #availability()} says whether it loaded and why
 * not. Every failure is an {@link IOException} that names the path, the call and the errno.
 */
final class NativeFlock {
    static final int LOCK_SH = 1;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;
    static final int LOCK_UN = 8;

    private static final Loaded LOADED = load();

    private final POSIX posix;
    private final int openFlags;
    private final int readOnlyFlags;

    private NativeFlock(POSIX posix) {
        this.posix = posix;
        this.openFlags = OpenFlags.O_RDWR.intValue() | OpenFlags.O_CREAT.intValue() | OpenFlags.O_CLOEXEC.intValue();
        this.readOnlyFlags = OpenFlags.O_RDONLY.intValue() | OpenFlags.O_CLOEXEC.intValue();
    }

    /** Whether flock can be called in this JVM, and why. */
    static Availability availability() {
        return LOADED.availability;
    }

    /** The loaded library; call only when {@link #availability()} says available. */
    static NativeFlock get() {
        if (LOADED.flock == null) {
            throw new IllegalStateException("flock is unavailable: " + LOADED.availability.reason());
        }
        return LOADED.flock;
    }

    /** An open descriptor and whether it was opened for writing. */
    record Descriptor(int fd, boolean writable) {}

    /**
     * Opens (creating with {@code mode}) {@code path} read-write, or read-only when this process may not write
     * it; close-on-exec either way.
     */
    Descriptor open(Path path, int mode) throws IOException {
        String name = path.toString();
        int fd = posix.open(name, openFlags, mode);
        if (fd >= 0) {
            return new Descriptor(fd, true);
        }
        int errno = posix.errno();
        if (errno == Errno.EACCES.intValue() || errno == Errno.EROFS.intValue() || errno == Errno.EPERM.intValue()) {
            int readOnly = posix.open(name, readOnlyFlags, 0);
            if (readOnly >= 0) {
                return new Descriptor(readOnly, false);
            }
        }
        throw failure("open", path, errno);
    }

    /**
     * Takes the lock: {@code true} when taken, {@code false} when another open file description holds it in
     * a conflicting mode (only with {@code blocking == false}). A signal ({@code EINTR}) is retried.
     */
    boolean lock(int fd, LockMode mode, boolean blocking, Path path) throws IOException {
        int operation = (mode == LockMode.SHARED ? LOCK_SH : LOCK_EX) | (blocking ? 0 : LOCK_NB);
        while (true) {
            if (posix.flock(fd, operation) == 0) {
                return true;
            }
            int errno = posix.errno();
            if (errno == Errno.EINTR.intValue()) {
                continue;
            }
            if (!blocking && (errno == Errno.EWOULDBLOCK.intValue() || errno == Errno.EAGAIN.intValue())) {
                return false;
            }
            throw failure("flock", path, errno);
        }
    }

    /** Drops this description's flock lock. */
    void unlock(int fd, Path path) throws IOException {
        while (posix.flock(fd, LOCK_UN) != 0) {
            int errno = posix.errno();
            if (errno != Errno.EINTR.intValue()) {
                throw failure("unlock", path, errno);
            }
        }
    }

    /** Closes {@code fd}, never throwing: a failed close of a lock file loses nothing we could keep. */
    void close(int fd) {
        posix.close(fd);
    }

    /** Whether {@code fd} and {@code path} name the same file (device and inode); false if the path is gone. */
    boolean sameFile(int fd, Path path) throws IOException {
        FileStat open = posix.allocateStat();
        if (posix.fstat(fd, open) != 0) {
            throw failure("fstat", path, posix.errno());
        }
        FileStat named = posix.allocateStat();
        if (posix.stat(path.toString(), named) != 0) {
            int errno = posix.errno();
            if (errno == Errno.ENOENT.intValue()) {
                return false;
            }
            throw failure("stat", path, errno);
        }
        return open.dev() == named.dev() && open.ino() == named.ino();
    }

    /** Reads up to {@code buffer.length} bytes at offset 0; returns how many. */
    int readFromStart(int fd, byte[] buffer, Path path) throws IOException {
        int total = 0;
        while (total < buffer.length) {
            byte[] chunk = total == 0 ? buffer : new byte[buffer.length - total];
            long n = posix.pread(fd, chunk, (long) chunk.length, (long) total);
            if (n < 0) {
                int errno = posix.errno();
                if (errno == Errno.EINTR.intValue()) {
                    continue;
                }
                throw failure("read owner record", path, errno);
            }
            if (n == 0) {
                break;
            }
            if (chunk != buffer) {
                System.arraycopy(chunk, 0, buffer, total, (int) n);
            }
            total += (int) n;
            if (n < chunk.length) {
                break; // a short read of a regular file is its end: no second call to learn that
            }
        }
        return total;
    }

    /** Writes {@code bytes} at offset 0 with one pwrite (retried for a short write). */
    void writeAtStart(int fd, byte[] bytes, Path path) throws IOException {
        long written = 0;
        while (written < bytes.length) {
            byte[] rest = written == 0 ? bytes : java.util.Arrays.copyOfRange(bytes, (int) written, bytes.length);
            long n = posix.pwrite(fd, rest, (long) rest.length, written);
            if (n < 0) {
                int errno = posix.errno();
                if (errno == Errno.EINTR.intValue()) {
                    continue;
                }
                throw failure("write owner record", path, errno);
            }
            written += n;
        }
    }

    /** The exception for a failed call: what was done, on which path, which errno, and what to do. */
    static IOException failure(String call, Path path, int errno) {
        Errno known = Errno.valueOf(errno);
        String name = known == null || known == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : known.name();
        String what = known == null ? "" : " (" + known.description() + ")";
        String file = path.toString();
        if (errno == Errno.ENOLCK.intValue()
                || errno == Errno.ENOSYS.intValue()
                || errno == Errno.EOPNOTSUPP.intValue()
                || errno == Errno.ENOTSUP.intValue()) {
            return new FileSystemException(
                    file,
                    null,
                    call + " failed with " + name + what + ": this filesystem does not support flock; use the 'nio',"
                            + " 'ofd' or 'exclusive-create' provider for this directory");
        }
        if (errno == Errno.EACCES.intValue() || errno == Errno.EPERM.intValue()) {
            return new AccessDeniedException(file, null, call + " failed with " + name + what + "; check permissions");
        }
        if (errno == Errno.ENOENT.intValue()) {
            return new NoSuchFileException(file, null, call + " failed with " + name + what);
        }
        return new FileSystemException(file, null, call + " failed with " + name + what);
    }

    private record Loaded(NativeFlock flock, Availability availability) {}

    private static Loaded load() {
        String os = System.getProperty("os.name", "unknown");
        if (os.toLowerCase(java.util.Locale.ROOT).startsWith("windows")) {
            return new Loaded(null, Availability.unavailable("Windows has no flock(2); use the 'nio' provider"));
        }
        try {
            POSIX posix = POSIXFactory.getNativePOSIX(new SilentHandler());
            if (!posix.isNative()) {
                return new Loaded(
                        null, Availability.unavailable("jnr-posix could not load its native library on " + os));
            }
            posix.errno(0);
            if (posix.flock(-1, LOCK_UN) == 0 || posix.errno() == Errno.ENOSYS.intValue()) {
                return new Loaded(null, Availability.unavailable("flock(2) is not implemented on " + os));
            }
            return new Loaded(
                    new NativeFlock(posix),
                    Availability.available("flock(2) through jnr-posix's native POSIX on " + os));
        } catch (LinkageError | RuntimeException e) {
            return new Loaded(null, Availability.unavailable("jnr-posix's native POSIX failed to load: " + e));
        }
    }

    /** jnr-posix calls back here only for calls we do not use; it must never print or exit. */
    private static final class SilentHandler implements POSIXHandler {
        @Override
        public void error(Errno error, String extraData) {
            throw new IllegalStateException("jnr-posix: " + error + " " + extraData);
        }

        @Override
        public void error(Errno error, String methodName, String extraData) {
            throw new IllegalStateException("jnr-posix " + methodName + ": " + error + " " + extraData);
        }

        @Override
        public void unimplementedError(String methodName) {
            throw new UnsupportedOperationException("jnr-posix: " + methodName + " is not implemented here");
        }

        @Override
        public void warn(WARNING_ID id, String message, Object... data) {
            // not our calls
        }

        @Override
        public boolean isVerbose() {
            return false;
        }

        @Override
        public File getCurrentWorkingDirectory() {
            return new File(System.getProperty("user.dir"));
        }

        @Override
        public String[] getEnv() {
            return new String[0];
        }

        @Override
        public InputStream getInputStream() {
            return System.in;
        }

        @Override
        public PrintStream getOutputStream() {
            return System.out;
        }

        @Override
        public int getPID() {
            return (int) ProcessHandle.current().pid();
        }

        @Override
        public PrintStream getErrorStream() {
            return System.err;
        }
    }
}
