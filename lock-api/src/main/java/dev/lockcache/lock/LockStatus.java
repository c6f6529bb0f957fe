package dev.lockcache.lock;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether a lock is held right now and by whom, as {@link FileLocks#status} found it.
 *
 * @param path the lock file's real path
 * @param holder who holds it: nobody, the asking thread, another holder in this JVM, or another process
 * @param record the owner record as found; when the lock is free this is the <em>last</em> holder's record (for
 *     mechanisms whose lock file outlives the lock), not a holder's — see {@link #heldBy()}
 */
public record LockStatus(Path path, Holder holder, LockOwner record) {

    /** Who holds a lock. */
    public enum Holder {
        /** Nobody: a one-try acquisition succeeded (for a shared probe: nobody holds it exclusively). */
        NOBODY,
        /** The thread that asked, through a handle it has not closed. */
        CURRENT_THREAD,
        /** Another thread of this JVM, or an asynchronous acquisition of this JVM. */
        THIS_PROCESS,
        /** Another process (a one-try acquisition failed and nobody in this JVM holds it). */
        ANOTHER_PROCESS
    }

    public LockStatus {
        if (path == null || holder == null || record == null) {
            throw new IllegalArgumentException("lock status fields must not be null");
        }
    }

    /**
     * A status from the older three-part form: {@code held} means held by another process.
     *
     * @param owner the owner record as found
     * @param held whether a one-try acquisition failed
     */
    public LockStatus(Path path, LockOwner owner, boolean held) {
        this(path, held ? Holder.ANOTHER_PROCESS : Holder.NOBODY, owner);
    }

    /** Whether anyone holds the lock right now, including the asking thread. */
    public boolean held() {
        return holder != Holder.NOBODY;
    }

    /** Whether the asking thread itself holds it. */
    public boolean heldByCurrentThread() {
        return holder == Holder.CURRENT_THREAD;
    }

    /** The current holder's record while the lock is held; empty when it is free. */
    public Optional<LockOwner> heldBy() {
        return held() ? Optional.of(record) : Optional.empty();
    }

    /**
     * The owner record as found, which for a free lock is the last holder's.
     *
     * @deprecated the name promised the holder; use {@link #heldBy()} for the holder or {@link #record()} for the
     *     record as found
     */
    @Deprecated
    public LockOwner owner() {
        return record;
    }
}
