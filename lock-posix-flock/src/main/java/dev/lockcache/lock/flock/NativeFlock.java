package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.NativeWait;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import jnr.constants.platform.Errno;
import jnr.ffi.annotations.SaveError;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.POSIXHandler;

/**
 * {@code flock(2)} and the few other calls it needs, through jnr-posix's native POSIX only (never its pure-Java
 * fallback, which has no flock). Loaded once per JVM; {@link #availability()} says whether it loaded and why
 * not. Every failure is an {@link IOException} that names the path, the call and the errno.
 */
public final class NativeFlock {
    static final int LOCK_SH = 1;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;
    static final int LOCK_UN = 8;

    private static final Loaded LOADED = load();

    final POSIX posix;
    final LibC libc;
    final jnr.ffi.Runtime runtime;
    final boolean signalsUsable;

    private NativeFlock(POSIX posix, LibC libc) {
        this.posix = posix;
        this.libc = libc;
        this.runtime = jnr.ffi.Runtime.getRuntime(libc);
        this.signalsUsable =
                NativeWait.usable() && jnr.ffi.Platform.getNativePlatform().is64Bit();
    }

    /** The libc calls jnr-posix lacks: {@code openat} and the thread signal that wakes a blocked flock. */
    public interface LibC {
        @SaveError
        int openat(int dirfd, String path, int flags, int mode);

        long pthread_self();

        int pthread_kill(long thread, int signal);
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

    /** The errno of this thread's last call through {@link #libc}. */
    int lastError() {
        return jnr.ffi.LastError.getLastError(runtime);
    }

    /**
     * Takes the lock: {@code true} when taken, {@code false} when another open file description holds it in a
     * conflicting mode (non-blocking), or a signal ended a blocking call ({@code EINTR}).
     */
    boolean lock(int fd, LockMode mode, boolean blocking, Path path) throws IOException {
        int operation = (mode == LockMode.SHARED ? LOCK_SH : LOCK_EX) | (blocking ? 0 : LOCK_NB);
        while (true) {
            if (posix.flock(fd, operation) == 0) {
                return true;
            }
            int errno = posix.errno();
            if (errno == Errno.EINTR.intValue()) {
                if (blocking) {
                    return false; // the waker's signal: the caller looks at its deadline and interrupt
                }
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
        if (errno == Errno.EACCES.intValue() || errno == Errno.EPERM.intValue() || errno == Errno.EROFS.intValue()) {
            return new AccessDeniedException(file, null, call + " failed with " + name + what + "; check permissions");
        }
        if (errno == Errno.ENOENT.intValue()) {
            return new NoSuchFileException(file, null, call + " failed with " + name + what);
        }
        if (errno == Errno.EEXIST.intValue()) {
            return new java.nio.file.FileAlreadyExistsException(file, null, call + " failed with " + name + what);
        }
        if (errno == Errno.ELOOP.intValue()) {
            return new FileSystemException(
                    file,
                    null,
                    call + " refused a symbolic link (" + name + "): lockcache never follows a link at a lock path");
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
            LibC libc = jnr.ffi.LibraryLoader.create(LibC.class)
                    .load(jnr.ffi.Platform.getNativePlatform().getStandardCLibraryName());
            return new Loaded(
                    new NativeFlock(posix, libc),
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
