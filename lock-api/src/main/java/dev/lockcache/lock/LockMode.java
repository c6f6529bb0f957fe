package dev.lockcache.lock;

/** How a lock is held: alone, or together with other shared holders. */
public enum LockMode {
    /** No other holder of any mode, in this JVM or another process. */
    EXCLUSIVE,
    /** Other shared holders may hold the lock at the same time; no exclusive holder may. */
    SHARED
}
