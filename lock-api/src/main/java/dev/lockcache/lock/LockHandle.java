package dev.lockcache.lock;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

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

    /**
     * The OS descriptor whose open file description carries the lock, for mechanisms whose lock belongs to it
     * ({@code flock}, {@code ofd}): a child process that inherits it keeps the lock alive after this JVM dies.
     * Empty for mechanisms whose lock cannot outlive the process (classic {@code fcntl}, exclusive-create,
     * ZooKeeper). Valid while the handle is open; never close it.
     */
    OptionalInt inheritableDescriptor();

    /**
     * Registers {@code listener}, told once when the mechanism finds the lock taken away while this handle is
     * open (see {@link LockLossListener}); told at once, in this thread, if that is already known. Mechanisms
     * that cannot lose a held lock (kernel locks) never call it.
     */
    void onLost(LockLossListener listener);

    /** Why the lock was lost, if the mechanism has found out that it was. */
    Optional<String> lost();

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
