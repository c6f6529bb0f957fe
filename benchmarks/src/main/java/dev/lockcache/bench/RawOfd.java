package dev.lockcache.bench;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The raw baseline for the {@code ofd} provider: {@code F_OFD_SETLKW} and unlock on a descriptor kept open,
 * through JNA direct mapping (the binding the provider itself uses), with nothing else around it.
 */
final class RawOfd {
    private static final int F_OFD_SETLKW = 38;
    private static final int F_OFD_SETLK = 37;
    private static final short F_WRLCK = 1;
    private static final short F_UNLCK = 2;
    private static final int O_RDWR = 02;
    private static final int O_CREAT = 0100;
    private static final int O_CLOEXEC = 02000000;

    static {
        Native.register(RawOfd.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private static native int open(String path, int flags, int mode) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;

    private static native int fcntl(int fd, int cmd, Pointer flock) throws LastErrorException;

    private final int fd;
    private final Memory lock = new Memory(32);
    private final Memory unlock = new Memory(32);

    RawOfd(Path file) throws IOException {
        try {
            fd = open(file.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        } catch (LastErrorException e) {
            throw new IOException("open " + file + ": " + e.getMessage(), e);
        }
        fill(lock, F_WRLCK);
        fill(unlock, F_UNLCK);
    }

    /** struct flock on 64-bit Linux: l_type, l_whence (shorts), l_start, l_len (longs), l_pid; whole file. */
    private static void fill(Memory flock, short type) {
        flock.clear();
        flock.setShort(0, type);
    }

    void lockExclusive() {
        fcntl(fd, F_OFD_SETLKW, lock);
    }

    void unlock() {
        fcntl(fd, F_OFD_SETLK, unlock);
    }

    void close() {
        close(fd);
    }
}
