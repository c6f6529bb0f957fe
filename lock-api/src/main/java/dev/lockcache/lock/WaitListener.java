package dev.lockcache.lock;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Told while an acquisition waits: after a first delay and then periodically (see {@link
 * LockOptions#withWaitListener}), in the waiting thread, how long it has waited so far and what the holder's
 * record says. Not called for an acquisition that succeeds before the first delay. A listener that throws
 * ends the wait with that exception; nothing is held then.
 */
@FunctionalInterface
public interface WaitListener {

    /**
     * @param path the lock file's real path
     * @param waited the time waited so far, on the monotonic clock
     * @param holder the current holder's record, as far as the mechanism can read it
     */
    void stillWaiting(Path path, Duration waited, LockOwner holder);
}
