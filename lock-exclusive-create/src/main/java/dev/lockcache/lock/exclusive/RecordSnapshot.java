package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.UnsafePathException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * What one file (a lock's owner record, or a breaker guard) looked like at one moment: its identity, owner and
 * mode, its bytes and the record parsed from them. Two snapshots are the {@link #sameState same state} when
 * nothing a live holder does in between would leave them equal: the same file (identity), and for a readable
 * record the same token and heartbeat, for anything else the same bytes.
 */
final class RecordSnapshot {

    /** How every owner record starts; a file at a lock path that does not is somebody else's file. */
    static final byte[] RECORD_HEADER = "lockcache-owner ".getBytes(StandardCharsets.US_ASCII);

    /** How every breaker guard starts. */
    static final byte[] GUARD_HEADER = "lockcache-break-guard".getBytes(StandardCharsets.US_ASCII);

    private final Object fileKey;
    private final LockDirectory.Entry entry;
    private final byte[] bytes;
    private final LockOwner owner;

    private RecordSnapshot(Object fileKey, LockDirectory.Entry entry, byte[] bytes, LockOwner owner) {
        this.fileKey = fileKey;
        this.entry = entry;
        this.bytes = bytes;
        this.owner = owner;
    }

    /**
     * Reads the owner record {@code name} in {@code directory}; empty when it does not exist. A file that is
     * replaced while being read comes back as a state that matches no other (its identity is unknown), so it
     * never looks unchanged.
     *
     * @throws UnsafePathException if the name is not a regular file this process may trust (a symlink, a FIFO,
     *     a device, a hard-linked or foreign file), or is a file that is not an owner record at all
     */
    static Optional<RecordSnapshot> readRecord(LockDirectory directory, String name) throws IOException {
        return read(directory, name, "lock file", RECORD_HEADER, 2);
    }

    /** Reads the breaker guard {@code name}, as {@link #readRecord} does. */
    static Optional<RecordSnapshot> readGuard(LockDirectory directory, String name) throws IOException {
        return read(directory, name, "breaker guard", GUARD_HEADER, 1);
    }

    private static Optional<RecordSnapshot> read(
            LockDirectory directory, String name, String what, byte[] header, int maxLinks) throws IOException {
        Optional<LockDirectory.Content> content = directory.read(name, OwnerRecord.MAX_BYTES + 1, what, maxLinks);
        if (content.isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes = content.get().bytes();
        if (!startsWithPrefixOf(bytes, header)) {
            throw new UnsafePathException(
                    directory.resolve(name),
                    "the " + what + " exists and is not one of lockcache's own files (it does not start with '"
                            + new String(header, StandardCharsets.US_ASCII).strip() + "'); exclusive-create never"
                            + " treats such a file as a stale lock and never deletes it",
                    "lock another path (such as " + name + ".lock), or use a kernel-lock provider (flock, nio),"
                            + " which locks an existing file as it is");
        }
        Object key = content.get().stable() ? content.get().entry().fileKey() : new Object();
        return Optional.of(
                new RecordSnapshot(key, content.get().entry(), bytes, OwnerRecord.parse(bytes, bytes.length)));
    }

    /** Whether {@code bytes} is empty, a prefix of {@code header}, or starts with it (a record cut short counts). */
    private static boolean startsWithPrefixOf(byte[] bytes, byte[] header) {
        int n = Math.min(bytes.length, header.length);
        return Arrays.equals(bytes, 0, n, header, 0, n);
    }

    /** The file's identity (device and inode on POSIX), or a fresh object that equals nothing. */
    Object fileKey() {
        return fileKey;
    }

    /** What the file's {@code lstat} showed when it was read. */
    LockDirectory.Entry entry() {
        return entry;
    }

    LockOwner owner() {
        return owner;
    }

    /** The readable record, if the bytes were one. */
    Optional<OwnerRecord> record() {
        return owner instanceof LockOwner.Known known ? Optional.of(known.record()) : Optional.empty();
    }

    byte[] bytes() {
        return bytes.clone();
    }

    /** Whether {@code other} shows the same file and holder in the same state (see the class comment). */
    boolean sameState(RecordSnapshot other) {
        if (!Objects.equals(fileKey, other.fileKey)) {
            return false;
        }
        Optional<OwnerRecord> mine = record();
        Optional<OwnerRecord> theirs = other.record();
        if (mine.isPresent() && theirs.isPresent()) {
            return mine.get().token().equals(theirs.get().token())
                    && mine.get().heartbeat() == theirs.get().heartbeat();
        }
        return mine.isEmpty() && theirs.isEmpty() && Arrays.equals(bytes, other.bytes);
    }

    /** Whether {@code other} is the same file carrying the same token (or, unreadable, the same bytes). */
    boolean sameHolder(RecordSnapshot other) {
        if (!Objects.equals(fileKey, other.fileKey)) {
            return false;
        }
        Optional<OwnerRecord> mine = record();
        Optional<OwnerRecord> theirs = other.record();
        if (mine.isPresent() && theirs.isPresent()) {
            return mine.get().token().equals(theirs.get().token());
        }
        return mine.isEmpty() && theirs.isEmpty() && Arrays.equals(bytes, other.bytes);
    }

    /** A short description for log lines and messages. */
    String describe() {
        return owner.describe();
    }
}
