package dev.lockcache.lock;

import java.nio.file.Path;

/**
 * Found on release: the lock this handle held was taken away while it was held (the lock file was replaced,
 * or a breaker judged the holder stale). Whatever the critical section did may have overlapped another
 * holder; treat its results as suspect.
 */
public final class LockLostException extends LockException {
    private static final long serialVersionUID = 1L;

    public LockLostException(Path path, String reason) {
        super(
                "lock " + path + " was lost while held: " + reason
                        + "; the critical section may have overlapped another holder",
                path,
                null);
    }
}
