package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.UnsafePathException;
import dev.lockcache.lock.spi.DirectoryTrust;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A lock's directory, opened once and judged once, through which every file of the lock is named: the race it
 * owns is "a symlink, FIFO or swapped path component in a shared directory redirects a write or hangs a read".
 *
 * <p>On Linux the directory is held open as a {@link SecureDirectoryStream}: files are created with {@code
 * openat(O_CREAT|O_EXCL|O_NOFOLLOW)}, opened with {@code O_NOFOLLOW}, renamed with {@code renameat} and removed
 * with {@code unlinkat}, all relative to the descriptor, so a component of the directory's path swapped for a
 * symlink after it was opened cannot redirect them. The JDK has no {@code linkat}: the one path-based call,
 * {@link #link}, is verified afterwards by identity through the descriptor, and so is every path-based {@code
 * lstat} ({@link #stat}) that reads an owner, mode or link count. Where the platform has no secure directory
 * stream, the same calls are made on paths with {@link LinkOption#NOFOLLOW_LINKS}.
 *
 * <p>The directory is judged with {@link DirectoryTrust#require}: owned by this user or root and writable by
 * nobody else, or sticky and shared (such as {@code /tmp}), in which case every file used in it must be a
 * regular file with one link owned by this user. Files created here get {@link DirectoryTrust#fileMode()},
 * set after creation without following links, so neither the umask nor a default ACL widens them.
 *
 * <p>Nothing here ever opens for reading a file that an {@code lstat} did not show to be a regular file, and
 * every open of an existing file asks for read and write first: opening a FIFO for reading and writing does
 * not block on Linux, and a positioned read of a FIFO fails at once ({@code ESPIPE}), so a FIFO swapped in
 * between the check and the open still cannot hang the caller. Reads are bounded. Instances are thread-safe;
 * close them when done.
 */
final class LockDirectory implements Closeable {

    /** The test hook between a check of a name and the call that acts on it. */
    @FunctionalInterface
    interface Pause {
        Pause NONE = (step, name) -> {};

        /** Called after {@code name} was checked and before {@code step} acts on it. */
        void before(String step, String name) throws IOException;
    }

    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFSOCK = 0140000;

    private final Path path;
    private final DirectoryTrust.Kind kind;
    private final SecureDirectoryStream<Path> secure; // null where the platform has none
    private final DirectoryStream<Path> stream;
    private final Pause pause;

    /** What an {@code lstat} of one name showed. */
    record Entry(Object fileKey, int mode, long uid, int links, long size) {
        boolean isRegular() {
            return (mode & S_IFMT) == S_IFREG;
        }

        /** The file type in words, for messages. */
        String type() {
            return switch (mode & S_IFMT) {
                case S_IFREG -> "a regular file";
                case S_IFDIR -> "a directory";
                case S_IFLNK -> "a symbolic link";
                case S_IFIFO -> "a FIFO";
                case S_IFCHR -> "a character device";
                case S_IFBLK -> "a block device";
                case S_IFSOCK -> "a socket";
                default -> "a file of unknown type";
            };
        }

        /** Whether nobody but the owner (and, with the group-shared opt-in, its group) may write the file. */
        boolean writableOnlyByOwner() {
            int others = DirectoryTrust.groupShared() ? 0002 : 0022;
            return (mode & others) == 0;
        }

        /** Whether the owner is this user or root. */
        boolean ownedByUsOrRoot() {
            return uid == DirectoryTrust.effectiveUid() || uid == 0;
        }
    }

    /** What a bounded read of one file gave: its bytes and its identity before and after the read. */
    record Content(byte[] bytes, Entry entry, boolean stable) {}

    private LockDirectory(Path path, DirectoryTrust.Kind kind, DirectoryStream<Path> stream, Pause pause) {
        this.path = path;
        this.kind = kind;
        this.stream = stream;
        this.secure = stream instanceof SecureDirectoryStream<Path> s ? s : null;
        this.pause = pause;
    }

    /**
     * Opens and judges the directory of {@code lockPath}.
     *
     * @throws UnsafePathException if the directory must not be used (see the class comment)
     */
    static LockDirectory open(Path lockPath, Pause pause) throws IOException {
        Path directory = lockPath.getParent();
        DirectoryStream<Path> stream = Files.newDirectoryStream(directory);
        try {
            DirectoryTrust.Kind kind = DirectoryTrust.require(directory, "lock directory");
            LockDirectory opened = new LockDirectory(directory, kind, stream, pause);
            opened.requireSameDirectory();
            return opened;
        } catch (IOException | RuntimeException e) {
            stream.close();
            throw e;
        }
    }

    /** The directory's path (for messages and for the few path-based calls). */
    Path path() {
        return path;
    }

    /** How the directory was judged. */
    DirectoryTrust.Kind kind() {
        return kind;
    }

    /** The path of {@code name} in this directory, for messages. */
    Path resolve(String name) {
        return path.resolve(name);
    }

    /**
     * What {@code name} is right now, without following a link; empty if nothing has that name. The owner,
     * mode and link count come from an {@code lstat} of the path, accepted only when its identity is that of
     * the name in the open directory.
     */
    Optional<Entry> stat(String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Map<String, Object> attributes;
            try {
                attributes = Files.readAttributes(
                        path.resolve(name), "unix:fileKey,mode,uid,nlink,size", LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                if (secure == null || keyInDirectory(name) == null) {
                    return Optional.empty();
                }
                attributes = null;
            }
            if (attributes != null) {
                Entry entry = new Entry(
                        attributes.get("fileKey"),
                        (Integer) attributes.get("mode"),
                        ((Number) attributes.get("uid")).longValue(),
                        (Integer) attributes.get("nlink"),
                        ((Number) attributes.get("size")).longValue());
                if (secure == null || Objects.equals(entry.fileKey(), keyInDirectory(name))) {
                    return Optional.of(entry);
                }
            }
            if (attempt >= 3) {
                requireSameDirectory();
                throw new UnsafePathException(
                        path.resolve(name),
                        "the file kept changing while its owner and mode were read",
                        "make sure no other program renames files in " + path);
            }
        }
    }

    /**
     * Refuses {@code entry} (found at {@code name}) unless it is a regular file with one link that this
     * process may trust: in a sticky shared directory it must be owned by this user, elsewhere by this user
     * or root.
     *
     * @param what what the file is for, for the message ("generation file", "breaker guard"...)
     */
    void requireSafe(String name, Entry entry, String what) {
        requireSafe(name, entry, what, 1);
    }

    /**
     * {@link #requireSafe(String, Entry, String)} for a lock file, which may have a second name for a moment: the
     * publisher's temporary name between {@code link(2)} and its removal, or a breaker's while it puts a record
     * back. A lock file is never written or truncated by name, so a second name cannot make lockcache change
     * another file; removing the lock path removes only that name.
     */
    void requireSafeLockFile(String name, Entry entry) {
        requireSafe(name, entry, "lock file", 2);
    }

    private void requireSafe(String name, Entry entry, String what, int maxLinks) {
        Path file = path.resolve(name);
        if (!entry.isRegular()) {
            throw new UnsafePathException(
                    file,
                    "the " + what + " is " + entry.type() + ", not a regular file (lockcache never follows or opens"
                            + " such a file in a lock directory)",
                    "remove it if you know where it comes from, or use another lock path");
        }
        if (entry.links() > maxLinks) {
            throw new UnsafePathException(
                    file,
                    "the " + what + " has " + entry.links() + " hard links, so it may be another file's content",
                    "remove it if you know where it comes from, or use another lock path");
        }
        boolean ownerOk = kind == DirectoryTrust.Kind.STICKY_SHARED
                ? entry.uid() == DirectoryTrust.effectiveUid()
                : entry.ownedByUsOrRoot();
        if (!ownerOk && kind != DirectoryTrust.Kind.NOT_POSIX) {
            throw new UnsafePathException(
                    file,
                    "the " + what + " belongs to user id " + entry.uid() + ", not to this user ("
                            + DirectoryTrust.effectiveUid() + ")"
                            + (kind == DirectoryTrust.Kind.STICKY_SHARED ? " in a directory every user may write" : ""),
                    "use a lock directory of your own, or have user " + entry.uid() + " remove it");
        }
    }

    /**
     * Creates {@code name} (never following or replacing anything) for reading and writing, with the mode lockcache
     * gives its files.
     *
     * @throws java.nio.file.FileAlreadyExistsException if the name is taken
     */
    FileChannel create(String name) throws IOException {
        return create(name, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    /** {@link #create(String)} with {@code options} (such as write and append) besides create-new and no-follow. */
    FileChannel create(String name, Set<? extends OpenOption> more) throws IOException {
        Set<OpenOption> options = new HashSet<>(more);
        options.add(StandardOpenOption.CREATE_NEW);
        options.add(LinkOption.NOFOLLOW_LINKS);
        pause.before("create", name);
        FileChannel channel = open(name, options, true);
        try {
            if (DirectoryTrust.posix()) {
                PosixFileAttributeView view = secure != null
                        ? secure.getFileAttributeView(
                                Path.of(name), PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        : Files.getFileAttributeView(
                                path.resolve(name), PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
                view.setPermissions(DirectoryTrust.filePermissions());
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            try {
                delete(name);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Opens the existing file {@code name}, which {@link #stat} showed to be {@code expected}, without following a
     * link and without blocking on a FIFO (see the class comment). Write access is used for reading too where it
     * is granted; {@code write} requires it.
     *
     * @throws UnsafePathException if the file opened is not the one expected
     */
    FileChannel openExisting(String name, Entry expected, boolean write) throws IOException {
        return openExisting(
                name,
                expected,
                Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                write);
    }

    /**
     * Opens the existing regular file {@code name} for writing with {@code options} (which must include no-follow);
     * {@link #stat} and {@link #requireSafe} must have accepted it as {@code expected}. In a directory others may
     * write, a file that {@code requireSafe} accepted is this user's, and nobody else can rename or remove it.
     */
    FileChannel openExisting(String name, Entry expected, Set<? extends OpenOption> options) throws IOException {
        return openExisting(name, expected, options, true);
    }

    private FileChannel openExisting(String name, Entry expected, Set<? extends OpenOption> options, boolean write)
            throws IOException {
        pause.before("open", name);
        FileChannel channel;
        try {
            channel = open(name, options, false);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            if (isLoop(e)) {
                throw new UnsafePathException(
                        path.resolve(name),
                        "it became a symbolic link between its check and its open; it was not followed",
                        "remove it if you know where it comes from, or use a lock directory of your own");
            }
            if (write || !(e instanceof FileSystemException fse)) {
                throw e;
            }
            if (kind == DirectoryTrust.Kind.STICKY_SHARED) {
                // Others may swap a FIFO in here; a read-only open of one would block.
                throw new UnsafePathException(
                        path.resolve(name),
                        "it cannot be opened for reading and writing (" + fse.getReason() + ")",
                        "use a lock directory of your own");
            }
            channel = open(name, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS), false);
        }
        try {
            Optional<Entry> after = stat(name);
            if (after.isEmpty() || !Objects.equals(after.get().fileKey(), expected.fileKey())) {
                throw new ReplacedException(path.resolve(name), "make sure no other program replaces files in " + path);
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Reads at most {@code limit} bytes of {@code name} if it is a regular file with at most {@code maxLinks}
     * links this process may trust (see {@link #requireSafe}); empty if it does not exist.
     */
    Optional<Content> read(String name, int limit, String what, int maxLinks) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Optional<Entry> before = stat(name);
            if (before.isEmpty()) {
                return Optional.empty();
            }
            requireSafe(name, before.get(), what, maxLinks);
            FileChannel channel;
            try {
                channel = openExisting(name, before.get(), false);
            } catch (NoSuchFileException e) {
                continue; // removed while we looked: look again
            } catch (ReplacedException e) {
                if (attempt < 8) {
                    continue; // replaced by the next holder while we looked: look again
                }
                throw e;
            }
            byte[] bytes;
            try (channel) {
                bytes = readFully(channel, limit, path.resolve(name));
            }
            Optional<Entry> after = stat(name);
            boolean stable = after.isPresent()
                    && Objects.equals(after.get().fileKey(), before.get().fileKey());
            return Optional.of(new Content(bytes, before.get(), stable));
        }
    }

    /** The file at a name was replaced between its check and its open (honest holders do that all the time). */
    static final class ReplacedException extends java.nio.file.FileSystemException {
        private static final long serialVersionUID = 1L;

        ReplacedException(Path path, String fix) {
            super(path.toString(), null, "the file was replaced between its check and its open; " + fix);
        }
    }

    /** Reads from position 0 up to {@code limit} bytes with positioned reads (which fail at once on a FIFO). */
    static byte[] readFully(FileChannel channel, int limit, Path forMessage) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(limit);
        try {
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, buffer.position()) <= 0) {
                    break;
                }
            }
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("Illegal seek")) {
                throw new UnsafePathException(forMessage, "it is not a regular file (a FIFO or device)", "remove it");
            }
            throw e;
        }
        byte[] bytes = new byte[buffer.position()];
        buffer.flip().get(bytes);
        return bytes;
    }

    /** Renames {@code from} to {@code to} in this directory, replacing {@code to} if it exists. */
    void rename(String from, String to) throws IOException {
        pause.before("rename", from);
        if (secure != null) {
            secure.move(Path.of(from), secure, Path.of(to));
        } else {
            Files.move(path.resolve(from), path.resolve(to), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Removes the name {@code name} (never what a link points to). */
    void delete(String name) throws IOException {
        if (secure != null) {
            secure.deleteFile(Path.of(name));
        } else {
            Files.delete(path.resolve(name));
        }
    }

    /** Removes {@code name} if it exists. */
    void deleteIfExists(String name) throws IOException {
        try {
            delete(name);
        } catch (NoSuchFileException e) {
            // already gone
        }
    }

    /**
     * Makes {@code newName} a hard link to the file at {@code existingName}, which must have identity {@code
     * existingKey}; fails with {@link java.nio.file.FileAlreadyExistsException} if {@code newName} exists. The
     * link is made by path ({@code link(2)} follows no link at either name) and then verified by identity
     * through the open directory.
     */
    void link(Linking linking, String newName, String existingName, Object existingKey) throws IOException {
        pause.before("link", newName);
        linking.link(path.resolve(newName), path.resolve(existingName));
        if (secure != null && !Objects.equals(keyInDirectory(newName), existingKey)) {
            throw new UnsafePathException(
                    path.resolve(newName),
                    "the link made through the directory's path does not name the file created in the opened"
                            + " directory (the path " + path + " was swapped)",
                    "make sure nobody else can rename " + path + " or its parents");
        }
    }

    /** The identity of {@code name} in the open directory (fstatat, no following), or {@code null} if absent. */
    Object keyInDirectory(String name) throws IOException {
        try {
            if (secure != null) {
                return secure.getFileAttributeView(
                                Path.of(name), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .readAttributes()
                        .fileKey();
            }
            return Files.readAttributes(
                            path.resolve(name),
                            java.nio.file.attribute.BasicFileAttributes.class,
                            LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        stream.close();
    }

    @Override
    public String toString() {
        return "LockDirectory[" + path + ", " + kind + (secure == null ? ", by path" : "") + "]";
    }

    private FileChannel open(String name, Set<? extends OpenOption> options, boolean creating) throws IOException {
        if (secure != null) {
            SeekableByteChannel channel = creating
                    ? secure.newByteChannel(
                            Path.of(name),
                            options,
                            PosixFilePermissions.asFileAttribute(DirectoryTrust.filePermissions()))
                    : secure.newByteChannel(Path.of(name), options);
            if (channel instanceof FileChannel fileChannel) {
                return fileChannel;
            }
            channel.close();
            throw new IOException("the platform's secure directory stream gave no file channel for " + name);
        }
        if (creating && DirectoryTrust.posix()) {
            return FileChannel.open(
                    path.resolve(name),
                    options,
                    PosixFilePermissions.asFileAttribute(DirectoryTrust.filePermissions()));
        }
        return FileChannel.open(path.resolve(name), options);
    }

    /** Refuses to go on when the directory's path no longer names the directory that was opened and judged. */
    private void requireSameDirectory() throws IOException {
        if (secure == null) {
            return;
        }
        Object opened = secure.getFileAttributeView(BasicFileAttributeView.class)
                .readAttributes()
                .fileKey();
        Object named = Files.readAttributes(
                        path, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .fileKey();
        if (!Objects.equals(opened, named)) {
            throw new UnsafePathException(
                    path,
                    "the lock directory was replaced while it was opened",
                    "make sure nobody else can rename " + path + " or its parents");
        }
    }

    /** Whether {@code e} is {@code ELOOP}: a no-follow open met a symbolic link. */
    private static boolean isLoop(IOException e) {
        String text = (e instanceof FileSystemException fse ? fse.getReason() : e.getMessage());
        String lower = String.valueOf(text).toLowerCase(java.util.Locale.ROOT);
        return lower.contains("symbolic link") || lower.contains("too many levels");
    }
}
