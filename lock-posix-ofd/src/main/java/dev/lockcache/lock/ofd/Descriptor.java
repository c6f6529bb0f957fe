package dev.lockcache.lock.ofd;

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
record Descriptor(Path path, int fd, Object fileKey) {

    /** Opens {@code path} (creating it) and records which file that was. */
    static Descriptor open(Path path) throws IOException {
        int fd = OfdSyscalls.open(path);
        try {
            // stat of the /proc link reaches the open file itself, even if the path was replaced meanwhile
            Object key = Files.readAttributes(Path.of("/proc/self/fd/" + fd), BasicFileAttributes.class)
                    .fileKey();
            if (key == null) {
                throw new IOException("cannot tell the identity of lock file " + path + " (no file key)");
            }
            return new Descriptor(path, fd, key);
        } catch (IOException | RuntimeException e) {
            OfdSyscalls.closeQuietly(fd);
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

    void close() {
        OfdSyscalls.closeQuietly(fd);
    }
}
