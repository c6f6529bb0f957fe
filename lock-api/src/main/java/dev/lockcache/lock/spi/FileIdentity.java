package dev.lockcache.lock.spi;

/**
 * What {@code fstat} or {@code fstatat(AT_SYMLINK_NOFOLLOW)} says of a file: enough to tell which file it is,
 * what kind, who owns it and whether someone else could write it.
 *
 * @param device the device id
 * @param inode the inode number
 * @param mode the full {@code st_mode} (type and permission bits)
 * @param links the number of hard links
 * @param uid the owner's user id
 * @param size the size in bytes
 */
public record FileIdentity(long device, long inode, int mode, long links, long uid, long size) {
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;

    /** Whether both name the same file (device and inode). */
    public boolean sameFile(FileIdentity other) {
        return other != null && device == other.device && inode == other.inode;
    }

    public boolean regularFile() {
        return (mode & S_IFMT) == S_IFREG;
    }

    public boolean directory() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    /** The permission bits only ({@code 07777}). */
    public int permissions() {
        return mode & 07777;
    }

    /** Whether a user other than the owner may write it (group or others write bits). */
    public boolean writableByOthers() {
        return (mode & 0022) != 0;
    }

    /** The file type in words, for messages: "a symbolic link", "a FIFO"... */
    public String kind() {
        return switch (mode & S_IFMT) {
            case S_IFREG -> "a regular file";
            case S_IFDIR -> "a directory";
            case S_IFLNK -> "a symbolic link";
            case S_IFIFO -> "a FIFO";
            case S_IFSOCK -> "a socket";
            case S_IFCHR -> "a character device";
            case S_IFBLK -> "a block device";
            default -> "a file of unknown type " + Integer.toOctalString(mode & S_IFMT);
        };
    }
}
