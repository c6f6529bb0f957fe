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
        String text;
        try {
            text = read();
        } catch (IOException e) {
            return true;
        }
        String where =
                String.format(" %s %02x:%02x:%d ", pid, major(file.device()), minor(file.device()), file.inode());
        String kind = shared ? " READ " : " WRITE ";
        for (int start = 0; start < text.length(); ) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            String line = text.substring(start, end);
            start = end + 1;
            // "1: POSIX  ADVISORY  WRITE 21633 fe:00:2146319 0 EOF"; a waiter's line has "->" after the number
            if (line.contains(" POSIX ") && !line.contains("->") && line.contains(where) && line.contains(kind)) {
                return true;
            }
        }
        return false;
    }

    private synchronized String read() throws IOException {
        int length = 0;
        table.seek(0);
        while (true) {
            int n = table.read(buffer, length, buffer.length - length);
            if (n < 0) {
                break;
            }
            length += n;
            if (length == buffer.length) {
                buffer = java.util.Arrays.copyOf(buffer, buffer.length * 2);
            }
        }
        return new String(buffer, 0, length, StandardCharsets.ISO_8859_1);
    }

    /** glibc's encoding of {@code dev_t}, as Linux prints it in the table. */
    static long major(long device) {
        return ((device >>> 8) & 0xfff) | ((device >>> 32) & ~0xfffL);
    }

    static long minor(long device) {
        return (device & 0xff) | ((device >>> 12) & ~0xffL);
    }
}
