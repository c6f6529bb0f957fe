package dev.lockcache.lock.spi;

import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One locking mechanism. Implementations are thread-safe and stateless towards callers: the shared machinery
 * in {@code dev.lockcache.lock} guarantees that, per JVM and per real path, at most one thread at a time is
 * inside {@link #tryLock} or {@link #awaitLock} for a path, and that a lock is released exactly once, so a
 * provider only deals with other processes.
 *
 * <p>The hooks other than {@link #name()}, {@link #features()}, {@link #availability()}, {@link #probe} and
 * {@link #readOwner} are called by the framework only; callers use {@link dev.lockcache.lock.FileLocks}.
 */
public interface LockProvider extends AutoCloseable {

    /** The provider's short, stable name: {@code flock}, {@code nio}, {@code exclusive-create}... */
    String name();

    /** What this mechanism can do. */
    Set<LockFeature> features();

    /**
     * The mechanisms this provider holds for each lock (two for a composite), which decide through {@link
     * Mechanism}'s table whom it excludes. Empty (the default) for a mechanism outside the table, which
     * excludes only providers of its own name.
     */
    default Set<Mechanism> mechanisms() {
        return Set.of();
    }

    /**
     * Whether this provider is used only when asked for by name (a composite such as {@code double}): {@link
     * dev.lockcache.lock.LockProviders#select()} does not count it as a candidate. Default {@code false}.
     */
    default boolean optIn() {
        return false;
    }

    /** Whether this mechanism can run at all in this JVM, and why. Cheap; may be cached. */
    Availability availability();

    /**
     * Proves on {@code directory} that two independent attempts exclude each other, and reports the file
     * store type. May create and keep a small probe file there. Never throws for a filesystem that lies: that
     * is {@link ProbeResult.Verdict#DOES_NOT_EXCLUDE}.
     */
    ProbeResult probe(Path directory);

    /**
     * Tries once, without waiting, to take the lock for another process's point of view. Returns the held
     * lock, or empty when another process holds it in a conflicting mode.
     *
     * @throws IOException when the attempt itself failed (permission, unsupported filesystem...)
     */
    Optional<HeldLock> tryLock(LockRequest request) throws IOException;

    /**
     * Waits for a chance to take the lock, for at most {@code pollNanos} (polled mechanisms) or {@code
     * remainingNanos} (mechanisms the kernel wakes), and may take it while doing so. The default sleeps
     * {@code pollNanos} and takes nothing; the caller then tries again. An implementation that blocks must
     * return within {@code remainingNanos} and answer {@link Thread#interrupt()} with {@link
     * InterruptedException}, holding nothing.
     *
     * @param pollNanos the backoff pause chosen by the wait loop, at most {@code remainingNanos}
     * @param remainingNanos the time left until the caller's deadline, {@link Long#MAX_VALUE} for none
     */
    default Optional<HeldLock> awaitLock(LockRequest request, long pollNanos, long remainingNanos)
            throws IOException, InterruptedException {
        TimeUnit.NANOSECONDS.sleep(pollNanos);
        return Optional.empty();
    }

    /**
     * Releases a lock this provider returned. Called exactly once per held lock.
     *
     * @throws dev.lockcache.lock.LockLostException if the lock turned out to be no longer this holder's
     * @throws IOException when the release itself failed
     */
    void release(HeldLock lock) throws IOException;

    /**
     * Reads who holds the lock at {@code lockFile} without taking it. The default reads the owner record from
     * the lock file itself with a fresh descriptor; a mechanism that keeps it elsewhere overrides this.
     *
     * <p><strong>A provider that takes POSIX {@code fcntl} locks must override this</strong> and read through
     * the open file it locks through (as {@link KernelLockProvider} does): closing the default's descriptor would drop every fcntl lock this
     * process holds on the file. For the same reason, nothing else in a JVM that may hold fcntl locks should
     * open a lock file directly; ask the provider.
     */
    default LockOwner readOwner(Path lockFile) {
        return readOwnerRecordFile(lockFile);
    }

    /**
     * Releases what the provider keeps between uses (idle descriptors, helper threads, connections). Locks
     * still held are not released by this call. Idempotent; the provider may not be used afterwards. The
     * instances that {@link dev.lockcache.lock.LockProviders#installed()} returns are shared by the JVM and
     * closed at exit; a caller closes only the instances it built itself.
     */
    @Override
    default void close() {}

    /** Reads and parses an owner-record file, never throwing: see {@link OwnerRecord#parse(byte[], int)}. */
    static LockOwner readOwnerRecordFile(Path file) {
        if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    ? new LockOwner.Unreadable("not a regular file: never followed or opened")
                    : new LockOwner.Absent();
        }
        try (InputStream in = java.nio.channels.Channels.newInputStream(Files.newByteChannel(
                file, java.nio.file.StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
            byte[] buffer = in.readNBytes(OwnerRecord.MAX_BYTES + 1);
            return OwnerRecord.parse(buffer, buffer.length);
        } catch (NoSuchFileException e) {
            return new LockOwner.Absent();
        } catch (IOException e) {
            return new LockOwner.Unreadable("cannot read " + file + ": " + e);
        }
    }
}
