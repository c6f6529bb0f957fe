package dev.lockcache.lock.spi;

import dev.lockcache.lock.UnsafePathException;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The one judge of directories lockcache did not necessarily make (a lock file's parent, a cache root and its
 * subdirectories), and the source of the modes lockcache gives what it creates.
 *
 * <p>A directory is trusted when it is a real directory (not a symlink), owned by this process's user or by
 * root, and not writable by others. Group write is accepted only with the group-shared opt-in ({@value
 * #GROUP_SHARED_PROPERTY}{@code =true} or {@value #GROUP_SHARED_ENV}{@code =1}). A directory others may write
 * is accepted only when it is sticky (such as {@code /tmp}): others may then add names but cannot rename or
 * remove ours, so every file in it must itself be checked ({@link Kind#STICKY_SHARED}). Anything else is an
 * {@link UnsafePathException} that says how to fix it. Where the platform has no POSIX attributes (Windows)
 * nothing can be checked and {@link Kind#NOT_POSIX} is returned.
 *
 * <p>Modes: files lockcache creates are {@code 0600} ({@code 0660} group-shared), directories {@code 0700}
 * ({@code 0770} group-shared), set on the descriptor after creation so that neither the umask nor a default
 * ACL widens them.
 */
public final class DirectoryTrust {

    /** System property: allow group-writable lock and cache directories and create group-shared modes (default false). */
    public static final String GROUP_SHARED_PROPERTY = "lockcache.groupShared";

    /** Environment variable with the same meaning as {@link #GROUP_SHARED_PROPERTY} ({@code 1} or {@code true}). */
    public static final String GROUP_SHARED_ENV = "LOCKCACHE_GROUP_SHARED";

    private static final int S_ISVTX = 01000;
    private static final boolean POSIX =
            FileSystems.getDefault().supportedFileAttributeViews().contains("unix");
    private static final long UID = readUid();

    /** What kind of directory was judged. */
    public enum Kind {
        /** Owned by us or root, writable by nobody else: names in it are ours to manage. */
        PRIVATE,
        /** Owned by us or root, writable by its group, accepted because of the group-shared opt-in. */
        GROUP_SHARED,
        /** Writable by others but sticky: each file in it must be checked before use. */
        STICKY_SHARED,
        /** No POSIX attributes on this platform: nothing could be checked. */
        NOT_POSIX
    }

    private DirectoryTrust() {}

    /** Whether the group-shared opt-in is on. */
    public static boolean groupShared() {
        String property = System.getProperty(GROUP_SHARED_PROPERTY, "");
        if (!property.isBlank()) {
            return Boolean.parseBoolean(property.strip());
        }
        String env = System.getenv(GROUP_SHARED_ENV);
        return env != null && (env.strip().equals("1") || env.strip().equalsIgnoreCase("true"));
    }

    /** This process's effective user id, or -1 where the platform has none. */
    public static long effectiveUid() {
        return UID;
    }

    /** Whether the platform has POSIX owners and modes. */
    public static boolean posix() {
        return POSIX;
    }

    /** The permission bits of files lockcache creates: {@code 0600}, or {@code 0660} group-shared. */
    public static int fileMode() {
        return groupShared() ? 0660 : 0600;
    }

    /** The permission bits of directories lockcache creates: {@code 0700}, or {@code 0770} group-shared. */
    public static int directoryMode() {
        return groupShared() ? 0770 : 0700;
    }

    /** {@link #fileMode()} as permissions. */
    public static Set<PosixFilePermission> filePermissions() {
        return permissions(fileMode());
    }

    /** {@link #directoryMode()} as permissions. */
    public static Set<PosixFilePermission> directoryPermissions() {
        return permissions(directoryMode());
    }

    /** The permissions of the low nine bits of {@code mode}. */
    public static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ
        };
        for (int bit = 0; bit < order.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                set.add(order[bit]);
            }
        }
        return set;
    }

    /**
     * Judges {@code directory} (which must exist) as described in the class comment.
     *
     * @param what what the directory is for, for the message ("lock directory", "cache root"...)
     * @throws UnsafePathException when it must not be used
     * @throws IOException when its attributes cannot be read
     */
    public static Kind require(Path directory, String what) throws IOException {
        if (!POSIX) {
            return Kind.NOT_POSIX;
        }
        Map<String, Object> attributes =
                Files.readAttributes(directory, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        return judge(directory, (Integer) attributes.get("mode"), ((Number) attributes.get("uid")).longValue(), what);
    }

    /**
     * Judges a directory from its {@code st_mode} and owner, as {@code fstat} of an open directory gives them.
     *
     * @throws UnsafePathException when it must not be used
     */
    public static Kind judge(Path directory, int mode, long uid, String what) {
        if (!POSIX) {
            return Kind.NOT_POSIX;
        }
        int type = mode & 0170000;
        if (type == 0120000) {
            throw new UnsafePathException(
                    directory,
                    "the " + what + " is a symbolic link",
                    "use the directory it points to, after checking who may change the link");
        }
        if (type != 0040000) {
            throw new UnsafePathException(directory, "the " + what + " is not a directory", "choose another path");
        }
        if (uid != UID && uid != 0) {
            throw new UnsafePathException(
                    directory,
                    "the " + what + " belongs to user id " + uid + ", not to this user (" + UID + ") or root, so its"
                            + " owner could swap files in it",
                    "use a directory of your own (remove it if you made it under another account, or have its owner"
                            + " run: chown " + UID + " " + directory + ")");
        }
        boolean othersWrite = (mode & 0002) != 0;
        boolean groupWrite = (mode & 0020) != 0;
        if (othersWrite) {
            if ((mode & S_ISVTX) != 0) {
                return Kind.STICKY_SHARED;
            }
            throw new UnsafePathException(
                    directory,
                    "the " + what + " is writable by every user (mode " + Integer.toOctalString(mode & 07777) + ")",
                    "run: chmod o-w " + directory + " (or chmod +t, if it must stay writable by all)");
        }
        if (groupWrite) {
            if (groupShared()) {
                return Kind.GROUP_SHARED;
            }
            if ((mode & S_ISVTX) != 0) {
                return Kind.STICKY_SHARED;
            }
            throw new UnsafePathException(
                    directory,
                    "the " + what + " is writable by its group (mode " + Integer.toOctalString(mode & 07777) + ")",
                    "run: chmod g-w " + directory + ", or set -D" + GROUP_SHARED_PROPERTY + "=true (or "
                            + GROUP_SHARED_ENV + "=1) in every process if the group is meant to share it");
        }
        return Kind.PRIVATE;
    }

    private static long readUid() {
        if (!POSIX) {
            return -1;
        }
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            try {
                Path probe = Files.createTempFile("lockcache-uid", "");
                try {
                    return ((Number) Files.getAttribute(probe, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
                } finally {
                    Files.deleteIfExists(probe);
                }
            } catch (IOException | RuntimeException again) {
                return -1;
            }
        }
    }
}
