package dev.lockcache.lock;

import java.nio.file.Path;

/**
 * One successful acquisition. Close it exactly when the critical section ends, normally with
 * try-with-resources.
 *
 * <p>Handles are counted per thread: a thread that acquires the same path again gets a second handle and the
 * OS lock is taken once; the lock is released when the last of the thread's handles (and every other
 * holder's in this JVM) is closed. A handle may be closed from any thread; it stays counted against the
 * thread that acquired it.
 */
public interface LockHandle extends AutoCloseable {

    /** The lock file's real path. */
    Path path();

    /** The mode this handle was granted. */
    LockMode mode();

    /** The name of the provider whose mechanism holds the lock. */
    String provider();

    /**
     * A token that grows with every exclusive acquisition of this lock (across processes, as far as the
     * mechanism allows): a writer can refuse work stamped with an older one.
     */
    long fencingToken();

    /** Whether this handle has not been closed yet. */
    boolean isOpen();

    /**
     * Releases this handle's hold. Idempotent; never throws a checked exception.
     *
     * @throws LockLostException if, on the final release, the mechanism found the lock had been taken away
     * @throws LockIOException if the release itself failed; the hold is dropped in this JVM all the same
     */
    @Override
    void close();
}
