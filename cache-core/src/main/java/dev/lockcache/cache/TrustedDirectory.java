package dev.lockcache.cache;

import dev.lockcache.lock.UnsafePathException;
import dev.lockcache.lock.spi.DirectoryTrust;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A cache directory opened once and judged, and every change inside it made relative to that open directory
 * ({@code openat}, {@code renameat}, {@code unlinkat} with {@code O_NOFOLLOW}, through {@link
 * SecureDirectoryStream}), so a path component swapped for a symlink after the judgement cannot redirect a
 * write.
 *
 * <p>The judgement is lock-api's {@link DirectoryTrust} on the path, and the same rules again on the open
 * descriptor (owner this user or root; no write for others; group write only with the group-shared opt-in), with
 * the descriptor required to be the directory the path names: a directory swapped between the two looks is
 * refused. A directory this class creates gets {@link DirectoryTrust#directoryMode()} on its descriptor after
 * {@code mkdir}, so neither the umask nor a default ACL widens it. Files it creates are {@code CREATE_NEW} with
 * {@code NOFOLLOW_LINKS} and an explicit mode (the umask and a default ACL can only narrow it).
 *
 * <p>Where the platform has no {@link SecureDirectoryStream} (Windows), operations fall back to paths and
 * nothing is judged (there are no POSIX owners or modes to judge). Not thread-safe; close it when done.
 */
final class TrustedDirectory implements AutoCloseable {

    private static final boolean POSIX = DirectoryTrust.posix();
    private static final Set<OpenOption> CREATE =
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    private static final Path SELF = Path.of(".");

    private final Path path;
    private final String what;
    private final String key;
    private final SecureDirectoryStream<Path> dir; // null where the platform has none

    private TrustedDirectory(Path path, String what, String key, SecureDirectoryStream<Path> dir) {
        this.path = path;
        this.what = what;
        this.key = key;
        this.dir = dir;
    }

    /**
     * Opens the cache root {@code root} (an absolute, normalised path), creating it and any missing parents with
     * the directory mode when {@code create} is set, and judges it.
     *
     * @throws NoSuchFileException when it does not exist and {@code create} is not set
     * @throws CacheUnsafePathException when it must not be used
     */
    static TrustedDirectory root(Path root, boolean create) throws IOException {
        Path existing = root;
        while (existing.getParent() != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (!existing.equals(root) && !create) {
            throw new NoSuchFileException(root.toString());
        }
        // the part of the path that exists is the caller's configuration and may contain links; below it, we create
        DirectoryStream<Path> top = Files.newDirectoryStream(existing);
        if (!(top instanceof SecureDirectoryStream<Path> secure)) {
            top.close();
            Files.createDirectories(root);
            return new TrustedDirectory(root, "cache root", "", null);
        }
        TrustedDirectory current = new TrustedDirectory(existing, "cache root", "", secure);
        try {
            for (Path name : existing.relativize(root)) {
                if (name.toString().isEmpty()) {
                    continue;
                }
                TrustedDirectory next = current.child(name.toString(), "cache root", true, false);
                current.close();
                current = next;
            }
            current.judge(true);
            return current;
        } catch (IOException | RuntimeException e) {
            current.close();
            throw e;
        }
    }

    /**
     * Opens the subdirectory {@code name} (never through a symlink), creating it with the directory mode when
     * {@code create} is set and it is missing, and judges it (a subdirectory must be private or group-shared;
     * sticky-shared is for the root only).
     *
     * @throws NoSuchFileException when it is missing and {@code create} is not set
     */
    TrustedDirectory child(String name, String childWhat, boolean create) throws IOException {
        return child(name, childWhat, create, true);
    }

    private TrustedDirectory child(String name, String childWhat, boolean create, boolean judge) throws IOException {
        Path childPath = path.resolve(name);
        if (dir == null) {
            if (create) {
                Files.createDirectories(childPath);
            } else if (!Files.isDirectory(childPath, LinkOption.NOFOLLOW_LINKS)) {
                throw new NoSuchFileException(childPath.toString());
            }
            return new TrustedDirectory(childPath, childWhat, key, null);
        }
        boolean created = false;
        SecureDirectoryStream<Path> opened;
        try {
            opened = openChild(name, childPath, childWhat);
        } catch (NoSuchFileException e) {
            if (!create) {
                throw e;
            }
            try {
                Files.createDirectory(childPath, attribute(DirectoryTrust.directoryMode()));
                created = true;
            } catch (FileAlreadyExistsException raced) {
                // another thread or process made it first: judge theirs
            }
            opened = openChild(name, childPath, childWhat);
        }
        TrustedDirectory child = new TrustedDirectory(childPath, childWhat, key, opened);
        try {
            if (created && POSIX && ownedByUs(child.ownAttributes())) {
                child.ownView().setPermissions(DirectoryTrust.directoryPermissions()); // fchmod: not the umask's mode
            }
            if (judge) {
                child.judge(false);
            }
            return child;
        } catch (IOException | RuntimeException e) {
            child.close();
            throw e;
        }
    }

    private SecureDirectoryStream<Path> openChild(String name, Path childPath, String childWhat) throws IOException {
        try {
            return dir.newDirectoryStream(Path.of(name), LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (NotDirectoryException e) {
            throw notADirectory(childPath, childWhat);
        } catch (FileSystemException e) {
            if (Files.isSymbolicLink(childPath)) {
                throw notADirectory(childPath, childWhat);
            }
            throw e;
        }
    }

    private CacheUnsafePathException notADirectory(Path childPath, String childWhat) {
        String kind = Files.isSymbolicLink(childPath) ? "a symbolic link" : "not a directory";
        return new CacheUnsafePathException(
                key,
                childPath,
                "the " + childWhat + " is " + kind + " (lockcache never follows links inside its cache)",
                "remove it (after checking who placed it there); the cache creates its own directory there");
    }

    /** Judges this directory by path with {@link DirectoryTrust}, then its open descriptor by the same rules. */
    private void judge(boolean root) throws IOException {
        if (dir == null || !POSIX) {
            return;
        }
        DirectoryTrust.Kind kind;
        try {
            kind = DirectoryTrust.require(path, what);
        } catch (UnsafePathException e) {
            throw new CacheUnsafePathException(key, e);
        }
        if (kind == DirectoryTrust.Kind.STICKY_SHARED && !root) {
            throw new CacheUnsafePathException(
                    key,
                    path,
                    "the " + what + " is writable by others (sticky); only the cache root may be a shared directory",
                    "run: chmod go-w " + path + " (the cache makes its subdirectories owner-only)");
        }
        PosixFileAttributes held = ownAttributes();
        BasicFileAttributes named = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> perms = held.permissions();
        boolean othersWrite = perms.contains(PosixFilePermission.OTHERS_WRITE);
        boolean groupWrite = perms.contains(PosixFilePermission.GROUP_WRITE);
        boolean shared = kind == DirectoryTrust.Kind.STICKY_SHARED || kind == DirectoryTrust.Kind.GROUP_SHARED;
        if (held.fileKey() == null
                || !held.fileKey().equals(named.fileKey())
                || !(ownedByUs(held) || ownedByRoot(held))
                || (othersWrite && kind != DirectoryTrust.Kind.STICKY_SHARED)
                || (groupWrite && !shared)) {
            throw new CacheUnsafePathException(
                    key,
                    path,
                    "the " + what + " changed while it was being opened (another directory was swapped in)",
                    "check who else can rename entries in " + path.getParent() + "; then retry");
        }
    }

    private PosixFileAttributes ownAttributes() throws IOException {
        return ownView().readAttributes();
    }

    private PosixFileAttributeView ownView() {
        return dir.getFileAttributeView(PosixFileAttributeView.class);
    }

    /** The path of this directory. */
    Path path() {
        return path;
    }

    /** The path of {@code name} in this directory, for messages and read-only looks. */
    Path resolve(String name) {
        return path.resolve(name);
    }

    /**
     * Creates {@code name} ({@code CREATE_NEW}, never through a symlink) with permission bits {@code mode} and
     * returns a channel open for writing.
     */
    FileChannel create(String name, int mode) throws IOException {
        FileAttribute<?>[] attrs = POSIX ? new FileAttribute<?>[] {attribute(mode)} : new FileAttribute<?>[0];
        if (dir == null) {
            return FileChannel.open(path.resolve(name), CREATE, attrs);
        }
        return (FileChannel) dir.newByteChannel(Path.of(name), CREATE, attrs);
    }

    /**
     * Opens the regular file {@code name} for reading, never through a symlink and never opening a FIFO or a
     * device (which could block or never end).
     *
     * @throws NoSuchFileException when there is nothing there
     * @throws CacheUnsafePathException when something other than a regular file is there
     */
    FileChannel openRegular(String name) throws IOException {
        requireRegular(name);
        if (dir == null) {
            return FileChannel.open(path.resolve(name), READ);
        }
        return (FileChannel) dir.newByteChannel(Path.of(name), READ);
    }

    /**
     * Opens {@code name}, a file this cache created earlier (a partial download kept for resuming), for writing
     * without truncating it: only a regular file with one link, owned by this user and writable by nobody else,
     * never through a symlink or into a FIFO. Within a directory nobody else may write (judged when opened), the
     * name cannot be swapped between the check and the open.
     *
     * @throws NoSuchFileException when there is nothing there
     * @throws CacheUnsafePathException when what is there is not such a file
     */
    FileChannel openOwnedForWrite(String name) throws IOException {
        requireRegular(name);
        Optional<Map<String, Object>> a = unixAttributes(name);
        if (a.isEmpty()) {
            throw new NoSuchFileException(resolve(name).toString());
        }
        if (!a.get().isEmpty()) {
            int mode = (Integer) a.get().get("mode");
            long uid = ((Number) a.get().get("uid")).longValue();
            int links = ((Number) a.get().get("nlink")).intValue();
            if (uid != DirectoryTrust.effectiveUid() || links != 1 || (mode & 0077) != 0) {
                throw new CacheUnsafePathException(
                        key,
                        resolve(name),
                        "expected a private file of this cache (owner " + DirectoryTrust.effectiveUid()
                                + ", one link, mode 0600), found owner " + uid + ", " + links + " links, mode "
                                + Integer.toOctalString(mode & 07777),
                        "remove it; the cache starts the download over");
            }
        }
        Set<OpenOption> write = Set.of(StandardOpenOption.WRITE, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        if (dir == null) {
            return FileChannel.open(path.resolve(name), write);
        }
        return (FileChannel) dir.newByteChannel(Path.of(name), write);
    }

    /**
     * The attributes of {@code name} ({@code unix:mode,uid,nlink,size} where there are), not following a
     * symlink; empty when nothing is there.
     */
    Optional<Map<String, Object>> unixAttributes(String name) throws IOException {
        try {
            return Optional.of(
                    Files.readAttributes(path.resolve(name), "unix:mode,uid,nlink,size", LinkOption.NOFOLLOW_LINKS));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return Optional.of(Map.of());
        }
    }

    private void requireRegular(String name) throws IOException {
        BasicFileAttributes a =
                Files.readAttributes(path.resolve(name), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isRegularFile()) {
            throw new CacheUnsafePathException(
                    key,
                    path.resolve(name),
                    "expected a regular file the cache wrote, found " + kindOf(a),
                    "remove it; the cache writes its own file there");
        }
    }

    /** Renames {@code from} over {@code to}, both in this directory, atomically ({@code renameat}). */
    void rename(String from, String to) throws IOException {
        if (dir == null) {
            Files.move(
                    path.resolve(from),
                    path.resolve(to),
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        dir.move(Path.of(from), dir, Path.of(to));
    }

    /** Sets the permission bits of {@code name}, a regular file in this directory that the cache created. */
    void setMode(String name, int mode) throws IOException {
        if (!POSIX) {
            return;
        }
        requireRegular(name);
        // within a directory nobody else may write, the name cannot be swapped between the check and the chmod
        Files.setPosixFilePermissions(path.resolve(name), DirectoryTrust.permissions(mode));
    }

    /** Removes {@code name} ({@code unlinkat}; a symlink is removed, never its target). Missing is fine. */
    void delete(String name) throws IOException {
        try {
            if (dir == null) {
                Files.deleteIfExists(path.resolve(name));
            } else {
                dir.deleteFile(Path.of(name));
            }
        } catch (NoSuchFileException e) {
            // already gone
        }
    }

    /** The names in this directory. */
    List<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        DirectoryStream<Path> list =
                dir == null ? Files.newDirectoryStream(path) : dir.newDirectoryStream(SELF, LinkOption.NOFOLLOW_LINKS);
        try (list) {
            for (Path p : list) {
                names.add(p.getFileName().toString());
            }
        }
        return names;
    }

    /** Whether {@code path()} still names this open directory (false once a swap happened). */
    boolean stillAt() throws IOException {
        if (dir == null) {
            return Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
        }
        Object held = dir.getFileAttributeView(PosixFileAttributeView.class)
                .readAttributes()
                .fileKey();
        try {
            Object named = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
            return held != null && held.equals(named);
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** Syncs this directory's entries (after a rename), where the platform can. */
    void sync() {
        try (FileChannel self = dir == null
                ? FileChannel.open(path, StandardOpenOption.READ)
                : (FileChannel) dir.newByteChannel(SELF, Set.of(StandardOpenOption.READ))) {
            self.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows cannot open a directory; its renames are durable through NTFS's own journal
        }
    }

    @Override
    public void close() {
        if (dir != null) {
            try {
                dir.close();
            } catch (IOException e) {
                // nothing was written through the directory descriptor itself
            }
        }
    }

    /** Opens the caller's directory {@code dir} (following links the caller put in its path) for mirror work. */
    static TrustedDirectory caller(Path dir, String key) throws IOException {
        DirectoryStream<Path> s = Files.newDirectoryStream(dir);
        if (s instanceof SecureDirectoryStream<Path> secure) {
            return new TrustedDirectory(dir, "directory of the requested path", key, secure);
        }
        s.close();
        return new TrustedDirectory(dir, "directory of the requested path", key, null);
    }

    static FileAttribute<Set<PosixFilePermission>> attribute(int mode) {
        return PosixFilePermissions.asFileAttribute(DirectoryTrust.permissions(mode));
    }

    static String kindOf(BasicFileAttributes a) {
        if (a.isSymbolicLink()) {
            return "a symbolic link";
        }
        if (a.isDirectory()) {
            return "a directory";
        }
        return a.isOther() ? "a FIFO, socket or device" : "a file";
    }

    private static boolean ownedByUs(PosixFileAttributes a) {
        return Owners.US != null && Owners.US.equals(a.owner());
    }

    private static boolean ownedByRoot(PosixFileAttributes a) {
        return Owners.ROOT != null && Owners.ROOT.equals(a.owner());
    }

    /** This process's user and root, as principals to compare owners with. */
    private static final class Owners {
        static final UserPrincipal US = lookup(DirectoryTrust.effectiveUid());
        static final UserPrincipal ROOT = lookup(0);

        private static UserPrincipal lookup(long uid) {
            try {
                // a numeric name is taken as the uid where no user has that name
                return FileSystems.getDefault()
                        .getUserPrincipalLookupService()
                        .lookupPrincipalByName(Long.toString(uid));
            } catch (IOException | UnsupportedOperationException e) {
                return null;
            }
        }
    }
}
