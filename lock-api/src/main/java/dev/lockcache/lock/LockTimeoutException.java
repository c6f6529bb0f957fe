package dev.lockcache.lock;

import java.nio.file.Path;
import java.time.Duration;

/** The lock was not obtained within the caller's timeout; nothing is held. */
public final class LockTimeoutException extends LockException {
    private static final long serialVersionUID = 1L;

    private final Duration waited;
    private final transient LockOwner owner;

    public LockTimeoutException(Path path, Duration waited, LockOwner owner) {
        super(
                "timed out after " + waited.toMillis() + " ms waiting for lock " + path + "; held by "
                        + owner.describe()
                        + ". Wait longer, or run 'lockcache inspect " + path + "' to see the holder",
                path,
                null);
        this.waited = waited;
        this.owner = owner;
    }

    /** How long the caller waited before giving up. */
    public Duration waited() {
        return waited;
    }

    /** Who held the lock when the wait ended, as far as the owner record tells. */
    public LockOwner owner() {
        return owner;
    }
}
