package dev.lockcache.lock.spi;

import dev.lockcache.lock.UnsafePathException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The bounded cache of one {@link KernelLockProvider}'s open lock files and their directories.
 *
 * <p>At most one open file per path: lock attempts and owner reads of a path share it ({@link Slot#users}), so
 * no second descriptor of a file that may carry a classic {@code fcntl} lock is ever opened and closed beside
 * it (that close would drop the process's lock). A file is closed only when nobody uses it: beyond the idle
 * bound (least recently used first), when it was found replaced, or when the provider closes.
 *
 * <p>Every open is judged before anyone uses it: the directory by {@link DirectoryTrust#judge} on its open
 * descriptor; the file must be a regular file with one link (a symbolic link is refused by the mechanism's
 * {@code O_NOFOLLOW}), and in a sticky shared directory it must belong to this user. A file this cache created
 * gets {@link DirectoryTrust#fileMode()} on its descriptor, whatever the umask or a default ACL said.
 */
final class OpenLockFiles {
    private static final int MAX_DIRECTORIES = 64;

    private final KernelMechanism mechanism;
    private final int idleLimit;
    private final Object monitor = new Object();
    private final Map<Path, Slot> slots = new HashMap<>(); // guarded by monitor
    private final LinkedHashMap<Path, Slot> idle = new LinkedHashMap<>(); // guarded by monitor, oldest first
    private final LinkedHashMap<Path, Dir> directories = new LinkedHashMap<>(16, 0.75f, true); // guarded by monitor
    private boolean closed; // guarded by monitor

    OpenLockFiles(KernelMechanism mechanism, int idleLimit) {
        this.mechanism = mechanism;
        this.idleLimit = idleLimit;
    }

    /** An open directory and what it was judged to be. */
    record Dir(Path path, KernelDirectory handle, DirectoryTrust.Kind kind) {}

    /** One open lock file and who uses it. */
    static final class Slot {
        final Path path;
        final String name;
        final Dir dir;
        final KernelFile file;
        final FileIdentity opened;
        /** Whether this process created the file with this open (so it is ours whatever it holds). */
        final boolean created;

        int users; // guarded by the cache's monitor
        boolean dead; // guarded by the cache's monitor

        Slot(Path path, Dir dir, KernelFile file, FileIdentity opened, boolean created) {
            this.path = path;
            this.name = path.getFileName().toString();
            this.dir = dir;
            this.file = file;
            this.opened = opened;
            this.created = created;
        }
    }

    /**
     * The open file of {@code path}, opened now (created if {@code create}) if there is none; the caller gives it
     * back with {@link #giveBack} or {@link #discard}.
     *
     * @throws NoSuchFileException when {@code create} is false and there is no such file
     * @throws UnsafePathException for a symbolic link, FIFO, device, hard-linked or foreign file in a shared
     *     directory, or an unsafe directory
     */
    Slot borrow(Path path, boolean create) throws IOException {
        synchronized (monitor) {
            if (closed) {
                throw new IllegalStateException("the lock provider was closed; lock " + path + " with an open one");
            }
            Slot slot = slots.get(path);
            if (slot != null) {
                slot.users++;
                idle.remove(path);
                return slot;
            }
            slot = open(path, directory(path.getParent()), create);
            slot.users = 1;
            slots.put(path, slot);
            return slot;
        }
    }

    /** Hands a slot back: it stays open for the next use, up to the idle bound. */
    void giveBack(Slot slot) {
        List<Slot> surplus = new ArrayList<>();
        synchronized (monitor) {
            if (--slot.users > 0) {
                return;
            }
            if (slot.dead || closed) {
                surplus.add(slot);
            } else {
                idle.put(slot.path, slot);
                Iterator<Slot> oldest = idle.values().iterator();
                while (idle.size() > idleLimit && oldest.hasNext()) {
                    Slot victim = oldest.next();
                    oldest.remove();
                    slots.remove(victim.path, victim);
                    surplus.add(victim);
                }
            }
        }
        for (Slot victim : surplus) {
            victim.file.close();
        }
    }

    /** Hands a slot back that must not be used again (its file was replaced, or its descriptor closed). */
    void discard(Slot slot) {
        synchronized (monitor) {
            slot.dead = true;
            slots.remove(slot.path, slot);
            idle.remove(slot.path, slot);
        }
        giveBack(slot);
    }

    /** Open files right now (for tests of the bound). */
    int openFiles() {
        synchronized (monitor) {
            return slots.size();
        }
    }

    /** Closes every idle file and every directory; files in use close when handed back. */
    void close() {
        List<Slot> toClose = new ArrayList<>();
        List<Dir> dirs;
        synchronized (monitor) {
            closed = true;
            toClose.addAll(idle.values());
            for (Slot slot : idle.values()) {
                slots.remove(slot.path, slot);
            }
            idle.clear();
            dirs = new ArrayList<>(directories.values());
            directories.clear();
        }
        toClose.forEach(slot -> slot.file.close());
        dirs.forEach(dir -> dir.handle().close());
    }

    /** The open, judged directory {@code path}; guarded by monitor. */
    Dir directory(Path path) throws IOException {
        Dir dir = directories.get(path);
        if (dir != null) {
            return dir;
        }
        KernelDirectory handle = mechanism.openDirectory(path);
        try {
            FileIdentity identity = handle.identity();
            if (!identity.directory()) {
                throw new UnsafePathException(path, "the lock directory is " + identity.kind(), "choose a directory");
            }
            DirectoryTrust.Kind kind = DirectoryTrust.judge(path, identity.mode(), identity.uid(), "lock directory");
            dir = new Dir(path, handle, kind);
        } catch (IOException | RuntimeException e) {
            handle.close();
            throw e;
        }
        directories.put(path, dir);
        if (directories.size() > MAX_DIRECTORIES) {
            Iterator<Dir> oldest = directories.values().iterator();
            Dir victim = oldest.next();
            boolean inUse = false;
            for (Slot slot : slots.values()) {
                inUse |= slot.dir == victim;
            }
            if (!inUse) {
                oldest.remove();
                victim.handle().close();
            }
        }
        return dir;
    }

    private Slot open(Path path, Dir dir, boolean create) throws IOException {
        for (int round = 1; ; round++) {
            try {
                return openOnce(path, dir, create);
            } catch (NoSuchFileException e) {
                // removed between "it exists" and opening it: create it again (bounded; a deleter must not win forever)
                if (!create || round >= KernelLockProvider.MAX_REPLACED_ROUNDS) {
                    throw e;
                }
            }
        }
    }

    private Slot openOnce(Path path, Dir dir, boolean create) throws IOException {
        String name = path.getFileName().toString();
        KernelFile file = null;
        boolean created = false;
        if (create) {
            try {
                file = dir.handle().open(name, KernelMechanism.OpenMode.CREATE_NEW, DirectoryTrust.fileMode());
                created = true;
            } catch (FileAlreadyExistsException e) {
                // opened below as it is
            }
        }
        if (file == null) {
            Optional<FileIdentity> named = dir.handle().identityOf(name);
            if (named.isEmpty()) {
                throw new NoSuchFileException(path.toString());
            }
            refuseUnsafe(path, dir, named.get());
            if (mechanism.exclusiveNeedsWrite()) {
                file = openWritableIfAllowed(dir, name, null);
            } else {
                // a file that is not one of our records is never written: read-only, so that it stays executable
                KernelFile readOnly = dir.handle().open(name, KernelMechanism.OpenMode.READ_ONLY, 0);
                file = mayBeOurs(readOnly) ? openWritableIfAllowed(dir, name, readOnly) : readOnly;
            }
        }
        try {
            FileIdentity identity = file.identity();
            refuseUnsafe(path, dir, identity);
            if (created) {
                file.restrictMode(DirectoryTrust.fileMode());
            }
            return new Slot(path, dir, file, identity, created);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * {@code name} opened for reading and writing, or read-only where writing is denied (permissions, a read-only
     * mount); {@code readOnly}, when given, is an open read-only file of it, kept in that case and closed otherwise.
     */
    private static KernelFile openWritableIfAllowed(Dir dir, String name, KernelFile readOnly) throws IOException {
        KernelFile writable;
        try {
            writable = dir.handle().open(name, KernelMechanism.OpenMode.READ_WRITE, 0);
        } catch (AccessDeniedException e) {
            return readOnly != null ? readOnly : dir.handle().open(name, KernelMechanism.OpenMode.READ_ONLY, 0);
        } catch (NoSuchFileException e) {
            closeQuietly(readOnly);
            throw e;
        } catch (FileSystemException e) {
            if (e.getReason() == null || !e.getReason().contains("Read-only file system")) {
                closeQuietly(readOnly);
                throw e;
            }
            return readOnly != null ? readOnly : dir.handle().open(name, KernelMechanism.OpenMode.READ_ONLY, 0);
        } catch (IOException | RuntimeException e) {
            closeQuietly(readOnly);
            throw e;
        }
        closeQuietly(readOnly); // no lock was taken through it
        return writable;
    }

    private static void closeQuietly(KernelFile file) {
        if (file != null) {
            file.close();
        }
    }

    /**
     * Whether the open file could be one of our records, which the base writes: this user's (or any, with the
     * group-shared opt-in), one link, and empty or starting with a record's header. The base checks the content
     * again once it holds the lock.
     */
    private static boolean mayBeOurs(KernelFile file) throws IOException {
        FileIdentity identity = file.identity();
        if (identity.links() != 1
                || (identity.uid() != DirectoryTrust.effectiveUid() && !DirectoryTrust.groupShared())) {
            return false;
        }
        byte[] start = new byte[KernelLockProvider.RECORD_HEADER.length];
        int n = file.read(start, 0);
        return n <= 0 || (n == start.length && Arrays.equals(start, KernelLockProvider.RECORD_HEADER));
    }

    private static void refuseUnsafe(Path path, Dir dir, FileIdentity identity) {
        if (!identity.regularFile()) {
            throw new UnsafePathException(
                    path,
                    "the lock path is " + identity.kind() + ", not a regular file",
                    "lock files must be regular files; remove it if it is not yours, or lock another path");
        }
        if (identity.links() > 1) {
            throw new UnsafePathException(
                    path,
                    "the lock file has " + identity.links() + " hard links, so locking it could write into another"
                            + " file",
                    "lock a file with a single link");
        }
        if (dir.kind() == DirectoryTrust.Kind.STICKY_SHARED
                && identity.uid() != DirectoryTrust.effectiveUid()
                && DirectoryTrust.effectiveUid() >= 0) {
            throw new UnsafePathException(
                    path,
                    "the lock file belongs to user id " + identity.uid() + " in a directory every user may write, so"
                            + " its owner can replace it at any time",
                    "lock a file of your own, or use a directory that only you can write");
        }
    }
}
