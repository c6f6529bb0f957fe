package dev.lockcache.lock.ofd;

import dev.lockcache.lock.spi.FcntlChannels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * One open descriptor of a lock file, with the identity (device and inode) of the file it opened, so that a
 * lock taken through it can be checked against what the path names now.
 *
 * @param path the lock file's real path
 * @param fd the descriptor, owned by whoever holds this record
 * @param fileKey the opened file's identity as the JDK reports it ({@code (dev=…,ino=…)})
 */
record Descriptor(Path path, int fd, Object fileKey, boolean writable) {

    /**
     * Opens {@code path} (creating it) and records which file that was. A file this process may not write
     * (permissions, an immutable file, a read-only mount) is opened read-only instead: shared locks work on it,
     * exclusive ones are refused with a clear error by the provider.
     */
    static Descriptor open(Path path) throws IOException {
        int fd;
        boolean writable = true;
        try {
            fd = OfdSyscalls.open(path);
        } catch (IOException e) {
            if (!OfdSyscalls.notWritable(e) || !Files.isRegularFile(path)) {
                throw e;
            }
            fd = OfdSyscalls.openReadOnly(path);
            writable = false;
        }
        try {
            // stat of the /proc link reaches the open file itself, even if the path was replaced meanwhile
            Object key = Files.readAttributes(Path.of("/proc/self/fd/" + fd), BasicFileAttributes.class)
                    .fileKey();
            if (key == null) {
                throw new IOException("cannot tell the identity of lock file " + path + " (no file key)");
            }
            return new Descriptor(path, fd, key, writable);
        } catch (IOException | RuntimeException e) {
            new Descriptor(path, fd, "unknown", writable).close();
            throw e;
        }
    }

    /** Whether the path still names the file this descriptor opened (false if it was removed or replaced). */
    boolean stillNamedByPath() throws IOException {
        try {
            return fileKey.equals(
                    Files.readAttributes(path, BasicFileAttributes.class).fileKey());
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /**
     * Closes the descriptor once no classic {@code fcntl} lock of this JVM on the same file can be dropped by it
     * (closing any descriptor of a file drops the process's {@code fcntl} locks on it, such as those the nio
     * provider holds). Callers unlock first: the OFD lock must not wait for a deferred close.
     */
    void close() {
        FcntlChannels.jvm().closeWhenUnlocked(path, () -> OfdSyscalls.closeQuietly(fd));
    }
}
