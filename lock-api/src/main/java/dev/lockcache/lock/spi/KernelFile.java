package dev.lockcache.lock.spi;

import dev.lockcache.lock.LockMode;
import java.io.IOException;
import java.util.OptionalInt;

/**
 * One open lock file of a {@link KernelMechanism}. Used by one thread at a time for locking; positioned reads
 * may come from several threads. The base closes it only when no lock of this JVM is held through it.
 */
public interface KernelFile {

    /** {@code fstat} of this descriptor (a mechanism that cannot fstat answers {@code fstatat} of its name). */
    FileIdentity identity() throws IOException;

    /** Whether it was opened for writing. */
    boolean writable();

    /**
     * One non-blocking attempt: {@code true} when taken, {@code false} when another holder has it in a
     * conflicting mode.
     */
    boolean tryLock(LockMode mode) throws IOException;

    /**
     * Waits for the lock in the kernel, in the calling thread, for at most {@code timeoutNanos} ({@link
     * Long#MAX_VALUE}: no limit): {@code true} when taken, {@code false} when the time ran out first.
     *
     * @throws InterruptedException when the thread was interrupted; nothing is held
     */
    boolean lock(LockMode mode, long timeoutNanos) throws IOException, InterruptedException;

    /** Drops this file's lock. */
    void unlock() throws IOException;

    /** Reads up to {@code buffer.length} bytes at {@code position}; returns how many (0 at the end). */
    int read(byte[] buffer, long position) throws IOException;

    /** Writes all of {@code bytes} at {@code position}. */
    void write(byte[] bytes, long position) throws IOException;

    /** Sets the permission bits on the descriptor ({@code fchmod}). */
    void restrictMode(int mode) throws IOException;

    /** The descriptor number, for mechanisms whose lock a child process inherits with it. */
    default OptionalInt descriptor() {
        return OptionalInt.empty();
    }

    /**
     * Whether the descriptor is still open: a mechanism whose blocking wait is ended by closing its file (Java's
     * {@code FileChannel.lock}) answers false afterwards, and the base then drops it.
     */
    default boolean isOpen() {
        return true;
    }

    /** Closes the file, never throwing. */
    void close();
}
