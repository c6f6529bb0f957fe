package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.UnsafePathException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;

/**
 * Judges what stands at a lock path, though this provider never opens it: the lock's name is the path, and a
 * name that another account has turned into a symbolic link, FIFO, device or hard link is hostile input, refused
 * like every provider refuses it. A missing file (the usual case: nothing is created on disk) costs one {@code
 * lstat}. An existing lock file that this account may not write may be locked shared only, the file providers'
 * rule.
 */
final class ExistingLockFile {
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFDIR = 0040000;
    private static final boolean UNIX =
            java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("unix");

    private ExistingLockFile() {}

    /**
     * Returns quietly when nothing, or a safe regular file, stands at {@code path}.
     *
     * @throws UnsafePathException for a symbolic link, FIFO, device, directory or hard-linked file
     * @throws IOException for an exclusive request on a file this account may not write, or when the path cannot
     *     be examined
     */
    static void judge(Path path, LockMode mode) throws IOException {
        String kind;
        long links;
        try {
            if (UNIX) {
                Map<String, Object> attributes =
                        Files.readAttributes(path, "unix:mode,nlink", LinkOption.NOFOLLOW_LINKS);
                int type = ((Number) attributes.get("mode")).intValue() & S_IFMT;
                kind = switch (type) {
                    case S_IFREG -> "";
                    case S_IFLNK -> "a symbolic link";
                    case S_IFIFO -> "a FIFO";
                    case S_IFDIR -> "a directory";
                    default -> "a device or socket";
                };
                links = ((Number) attributes.get("nlink")).longValue();
            } else {
                BasicFileAttributes attributes =
                        Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                kind = attributes.isSymbolicLink() ? "a symbolic link" : attributes.isRegularFile() ? "" : "not a file";
                links = 1;
            }
        } catch (NoSuchFileException e) {
            return;
        }
        if (!kind.isEmpty()) {
            throw new UnsafePathException(
                    path, "the lock path is " + kind, "remove it, or lock another path (zookeeper never follows it)");
        }
        if (links > 1) {
            throw new UnsafePathException(
                    path,
                    "the lock file has " + links + " hard links, so its name is shared with another file",
                    "remove it (it is not needed: zookeeper keeps nothing on disk) or lock another path");
        }
        if (mode == LockMode.EXCLUSIVE && !Files.isWritable(path)) {
            throw new IOException("lock file " + path + " exists and is not writable by this account, so it may be"
                    + " locked shared only; lock it shared, or fix its permissions");
        }
    }
}
