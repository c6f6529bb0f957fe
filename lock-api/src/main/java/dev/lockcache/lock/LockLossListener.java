package dev.lockcache.lock;

/**
 * Told once, as soon as the mechanism finds out, that a held lock was taken away: an exclusive-create lease
 * broken while its holder was paused, a record replaced, a ZooKeeper session lost. Called from the thread that
 * found out (a heartbeat or connection thread), or at once from {@link LockHandle#onLost} when the loss was
 * already known. Keep it short: stop the critical section, do not block.
 */
@FunctionalInterface
public interface LockLossListener {

    /**
     * @param handle the handle whose lock was lost; still open until its owner closes it
     * @param reason what happened, for messages
     */
    void lockLost(LockHandle handle, String reason);
}
