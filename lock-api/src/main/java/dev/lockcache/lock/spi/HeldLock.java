package dev.lockcache.lock.spi;

import dev.lockcache.lock.LockMode;
import java.nio.file.Path;

/**
 * A provider's record of one lock it took: whatever it needs to release it (descriptor, channel, token),
 * plus what the handle shows callers. Created by {@link LockProvider#tryLock} or {@link
 * LockProvider#awaitLock}, handed back exactly once to {@link LockProvider#release}.
 */
public interface HeldLock {

    /** The lock file's real path. */
    Path path();

    /** The mode actually held. */
    LockMode mode();

    /**
     * The fencing token of this acquisition: larger than that of every earlier exclusive acquisition of the
     * same lock, across processes, as far as the mechanism can tell. A mechanism without a shared counter that
     * only grows must return a constant (say 0) rather than a per-JVM count: a count that restarts low in a new
     * process would make writers that compare tokens refuse its work forever.
     */
    long fencingToken();
}
