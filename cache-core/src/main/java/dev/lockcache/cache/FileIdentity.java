package dev.lockcache.cache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;

/**
 * Who a published entry is, as far as the kernel can tell without reading it: device, inode, size, modification
 * and change times, read without following a symlink. Any write into the entry (through a hard-link mirror,
 * by root ignoring the read-only mode, after a {@code chmod u+w}), a replacement of it, or a new link to it
 * changes at least one of them, so an entry whose identity still equals the one recorded after the cache's own
 * last change holds the bytes that were verified then. Where the platform has no {@code unix} attributes, the
 * basic ones stand in (file key, size, modification time) and the change time reads as the modification time.
 *
 * @param device the device id ({@code 0} where unknown)
 * @param inode the inode number, or the file key's text where there are no inodes
 * @param size the size in bytes
 * @param modified the modification time, in nanoseconds since the epoch
 * @param changed the status-change time, in nanoseconds since the epoch
 */
record FileIdentity(long device, String inode, long size, long modified, long changed) {

    private static final boolean UNIX =
            java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("unix");

    /** The identity of {@code file} (not following a symlink), or empty when there is no regular file there. */
    static Optional<FileIdentity> of(Path file) throws IOException {
        try {
            if (UNIX && file.getFileSystem() == java.nio.file.FileSystems.getDefault()) {
                Map<String, Object> a = Files.readAttributes(
                        file, "unix:mode,ino,dev,size,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
                if ((((Integer) a.get("mode")) & 0170000) != 0100000) {
                    return Optional.empty();
                }
                return Optional.of(new FileIdentity(
                        ((Number) a.get("dev")).longValue(),
                        a.get("ino").toString(),
                        ((Number) a.get("size")).longValue(),
                        nanos((FileTime) a.get("lastModifiedTime")),
                        nanos((FileTime) a.get("ctime"))));
            }
            BasicFileAttributes b = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!b.isRegularFile()) {
                return Optional.empty();
            }
            long modified = nanos(b.lastModifiedTime());
            return Optional.of(new FileIdentity(0, String.valueOf(b.fileKey()), b.size(), modified, modified));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether {@code path} (not following a symlink) is a regular file with the device and inode of {@code of}:
     * a hard link to it. One {@code stat}.
     */
    static boolean isLinkOf(Path path, FileIdentity of) throws IOException {
        try {
            if (UNIX && path.getFileSystem() == java.nio.file.FileSystems.getDefault()) {
                Map<String, Object> a = Files.readAttributes(path, "unix:mode,ino,dev", LinkOption.NOFOLLOW_LINKS);
                return (((Integer) a.get("mode")) & 0170000) == 0100000
                        && ((Number) a.get("dev")).longValue() == of.device
                        && a.get("ino").toString().equals(of.inode);
            }
            Optional<FileIdentity> id = of(path);
            return id.isPresent() && id.get().sameFile(of);
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** Whether both name the same file (device and inode), whatever its times. */
    boolean sameFile(FileIdentity other) {
        return device == other.device && inode.equals(other.inode) && !inode.equals("null");
    }

    /** The one-line form kept in {@code entry.properties}. */
    String encode() {
        return device + ":" + inode + ":" + size + ":" + modified + ":" + changed;
    }

    /** The identity {@link #encode()} wrote, or empty when {@code text} is not one. */
    static Optional<FileIdentity> decode(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String[] parts = text.split(":", -1);
        if (parts.length != 5) {
            return Optional.empty();
        }
        try {
            return Optional.of(new FileIdentity(
                    Long.parseLong(parts[0]),
                    parts[1],
                    Long.parseLong(parts[2]),
                    Long.parseLong(parts[3]),
                    Long.parseLong(parts[4])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static long nanos(FileTime time) {
        java.time.Instant i = time.toInstant();
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L), i.getNano());
    }
}
