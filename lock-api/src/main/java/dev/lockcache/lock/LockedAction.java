package dev.lockcache.lock;

/**
 * Work done while a lock is held, for {@link FileLocks#withLock}.
 *
 * @param <T> what the work returns
 * @param <X> what the work may throw (inferred; {@link RuntimeException} for work that throws nothing checked)
 */
@FunctionalInterface
public interface LockedAction<T, X extends Exception> {

    /** Does the work; {@code lock} is open for the whole call and closed after it. */
    T run(LockHandle lock) throws X;
}
