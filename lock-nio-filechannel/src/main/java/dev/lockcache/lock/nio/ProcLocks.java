package dev.lockcache.lock.nio;

import dev.lockcache.lock.spi.FileIdentity;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;

/**
 * Linux's table of file locks, {@code /proc/locks}, asked whether this process holds a POSIX record lock on one
 * file. It exists for one JDK defect: {@link java.nio.channels.FileChannel#tryLock} returns a lock when
 * {@code fcntl(F_SETLK)} fails with {@code EINTR} (the JDK's {@code tryLock} does not retry {@code
 * IOStatus.INTERRUPTED}, where its blocking {@code lock} does), so a try that a signal interrupted, which an NFS
 * client's lock call can be, looks like a lock that is held while nobody holds it. The lock user confirms every
 * successful try here: about 3 µs, one positioned read of a file kept open (a {@code RandomAccessFile}, whose read
 * an interrupt does not abort).
 *
 * <p>Where the table cannot be read (not Linux, {@code /proc} not mounted), {@link #confirms} says yes: there is
 * nothing better to go by. Locks that a FUSE filesystem's daemon handles itself never reach the table (the kernel
 * forwards them and records nothing), so {@link #listsLocksOf} says no for FUSE mounts and the caller does not ask
 * there. The process is looked up as {@code /proc/self} names it, which is its id in the pid namespace of the
 * mounted {@code /proc} the table is printed in. Thread-safe.
 */
final class ProcLocks {
    private static final String PATH = "/proc/locks";
    private static final ProcLocks INSTANCE = open();

    private final RandomAccessFile table;
    private final String pid;
    private byte[] buffer = new byte[16 * 1024];

    private ProcLocks(RandomAccessFile table, String pid) {
        this.table = table;
        this.pid = pid;
    }

    /**
     * Whether fcntl locks of files in {@code directory} appear in the table: not on a FUSE mount (whose daemon
     * keeps its own locks), nor where the table cannot be read.
     */
    static boolean listsLocksOf(java.nio.file.Path directory) {
        if (INSTANCE.table == null) {
            return false;
        }
        try {
            return !java.nio.file.Files.getFileStore(directory).type().startsWith("fuse");
        } catch (IOException | RuntimeException e) {
            return false; // cannot tell: do not ask a table that may not list these locks
        }
    }

    static ProcLocks instance() {
        return INSTANCE;
    }

    private static ProcLocks open() {
        try {
            String self = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self"))
                    .getFileName()
                    .toString();
            Long.parseLong(self);
            return new ProcLocks(new RandomAccessFile(PATH, "r"), self);
        } catch (IOException | RuntimeException e) {
            return new ProcLocks(null, "");
        }
    }

    /**
     * Whether the table shows this process holding a POSIX lock of the given kind on {@code file}, or cannot be
     * read at all.
     */
    boolean confirms(FileIdentity file, boolean shared) {
        if (table == null) {
            return true;
        }
        byte[] where = ascii(" " + pid + " " + hex2(major(file.device())) + ":" + hex2(minor(file.device())) + ":"
                + file.inode() + " ");
        byte[] kind = shared ? READ : WRITE;
        synchronized (this) {
            int length;
            try {
                length = read();
            } catch (IOException e) {
                return true;
            }
            // "1: POSIX  ADVISORY  WRITE 21633 fe:00:2146319 0 EOF"; a waiter's line has "->" after the number
            for (int start = 0; start < length; ) {
                int end = indexOf(buffer, (byte) '\n', start, length);
                if (end < 0) {
                    end = length;
                }
                if (find(buffer, where, start, end) >= 0
                        && find(buffer, POSIX, start, end) >= 0
                        && find(buffer, kind, start, end) >= 0
                        && find(buffer, WAITER, start, end) < 0) {
                    return true;
                }
                start = end + 1;
            }
            return false;
        }
    }

    private static final byte[] POSIX = ascii(" POSIX ");
    private static final byte[] READ = ascii(" READ ");
    private static final byte[] WRITE = ascii(" WRITE ");
    private static final byte[] WAITER = ascii("->");

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static String hex2(long value) {
        String hex = Long.toHexString(value);
        return hex.length() < 2 ? "0" + hex : hex;
    }

    private static int indexOf(byte[] bytes, byte b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** Where {@code needle} starts in {@code bytes[from, to)}, or -1. */
    private static int find(byte[] bytes, byte[] needle, int from, int to) {
        outer:
        for (int i = from; i + needle.length <= to; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (bytes[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Reads the whole table into {@link #buffer}, growing it as needed; returns its length. Guarded by this. */
    private int read() throws IOException {
        int length = 0;
        table.seek(0);
        while (true) {
            int n = table.read(buffer, length, buffer.length - length);
            if (n < 0) {
                return length;
            }
            length += n;
            if (length == buffer.length) {
                buffer = java.util.Arrays.copyOf(buffer, buffer.length * 2);
            }
        }
    }

    /** glibc's encoding of {@code dev_t}, as Linux prints it in the table. */
    static long major(long device) {
        return ((device >>> 8) & 0xfff) | ((device >>> 32) & ~0xfffL);
    }

    static long minor(long device) {
        return (device & 0xff) | ((device >>> 12) & ~0xffL);
    }
}
