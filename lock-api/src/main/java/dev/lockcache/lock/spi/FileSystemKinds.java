package dev.lockcache.lock.spi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * What lockcache knows about file store types ({@link java.nio.file.FileStore#type()}, or the type column of
 * {@code /proc/self/mountinfo}): which are local disks, whose page cache every process on the host shares and
 * whose kernel locks are coherent. Everything not listed (NFS, SMB, FUSE, cluster filesystems, unknown) is
 * treated as remote by the strategy and the providers. One list for all modules, so that they agree.
 */
public final class FileSystemKinds {

    /** Local POSIX filesystems (Linux, BSD, macOS). */
    public static final Set<String> LOCAL_POSIX = Set.of(
            "ext2",
            "ext3",
            "ext4",
            "xfs",
            "btrfs",
            "tmpfs",
            "ramfs",
            "devtmpfs",
            "apfs",
            "hfs",
            "hfsplus",
            "zfs",
            "f2fs",
            "jfs",
            "reiserfs",
            "bcachefs",
            "overlay",
            "nilfs2",
            "ufs",
            "ffs",
            "vfat",
            "exfat",
            "ntfs3");

    /** Local Windows filesystems (as the JDK names them on Windows). */
    public static final Set<String> LOCAL_WINDOWS = Set.of("ntfs", "refs", "fat", "fat32");

    private FileSystemKinds() {}

    /** Whether {@code type} is a local POSIX filesystem. */
    public static boolean isLocalPosix(String type) {
        return LOCAL_POSIX.contains(type.toLowerCase(Locale.ROOT));
    }

    /** Whether {@code type} is a local disk of any platform. */
    public static boolean isLocal(String type) {
        String lower = type.toLowerCase(Locale.ROOT);
        return LOCAL_POSIX.contains(lower) || LOCAL_WINDOWS.contains(lower);
    }

    /** The file store type of {@code path}, or {@code "unknown"} when it cannot be read. */
    public static String typeOf(Path path) {
        try {
            return Files.getFileStore(path).type();
        } catch (IOException | SecurityException e) {
            return "unknown";
        }
    }
}
