package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * What one file (a lock's owner record, or a breaker guard) looked like at one moment: its identity, its
 * bytes and the record parsed from them. Two snapshots are the {@link #sameState same state} when nothing a
 * live holder does in between would leave them equal: for a readable record, the same token and heartbeat;
 * for anything else, the same file with the same bytes.
 */
final class RecordSnapshot {

    private final Object fileKey;
    private final byte[] bytes;
    private final LockOwner owner;

    private RecordSnapshot(Object fileKey, byte[] bytes, LockOwner owner) {
        this.fileKey = fileKey;
        this.bytes = bytes;
        this.owner = owner;
    }

    /**
     * Reads {@code file}; empty when it does not exist. A file that is replaced while being read comes back
     * as a state that matches no other (its identity is unknown), so it never looks unchanged.
     */
    static Optional<RecordSnapshot> read(Path file) throws IOException {
        try {
            Object before = fileKey(file);
            byte[] content;
            try (InputStream in = Files.newInputStream(file)) {
                content = in.readNBytes(OwnerRecord.MAX_BYTES + 1);
            }
            Object after = fileKey(file);
            Object key = Objects.equals(before, after) ? before : new Object();
            return Optional.of(new RecordSnapshot(key, content, OwnerRecord.parse(content, content.length)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** The file's identity (device and inode on POSIX), or {@code null} where the platform has none. */
    static Object fileKey(Path file) throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .fileKey();
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

    /** Whether {@code other} shows the same holder in the same state (see the class comment). */
    boolean sameState(RecordSnapshot other) {
        Optional<OwnerRecord> mine = record();
        Optional<OwnerRecord> theirs = other.record();
        if (mine.isPresent() && theirs.isPresent()) {
            return mine.get().token().equals(theirs.get().token())
                    && mine.get().heartbeat() == theirs.get().heartbeat();
        }
        return mine.isEmpty()
                && theirs.isEmpty()
                && Objects.equals(fileKey, other.fileKey)
                && Arrays.equals(bytes, other.bytes);
    }

    /** A short description for log lines and messages. */
    String describe() {
        return owner.describe();
    }
}
