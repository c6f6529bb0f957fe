package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.FcntlChannels;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The flock half shared by the {@code flock} and {@code double} providers: descriptors kept open between
 * uses, one non-blocking try, a kernel wait that honours timeouts and interrupts, the check that the path
 * still names the locked file, and unlocking.
 */
final class FlockLocks {
    /** Default mode of created lock files: owner read-write, others read. */
    static final int DEFAULT_CREATE_MODE = 0644;

    /** Mode of created lock files for caches shared by a group: group may lock exclusively too. */
    static final int GROUP_SHARED_CREATE_MODE = 0664;

    /** System property: create lock files group-writable ({@code true}) or not (default {@code false}). */
    static final String GROUP_SHARED_PROPERTY = "lockcache.flock.groupShared";

    private static final int MAX_REPLACED_RETRIES = 16;

    final NativeFlock flock;
    final IdleDescriptors descriptors;
    final KernelWaits waits;
    private final Consumer<Path> beforeLock;

    FlockLocks(NativeFlock flock, FcntlChannels channels, int idleLimit, int createMode, Consumer<Path> beforeLock) {
        this.flock = flock;
        this.descriptors = new IdleDescriptors(flock, channels, idleLimit, createMode);
        this.waits = new KernelWaits(flock, descriptors);
        this.beforeLock = beforeLock;
    }

    static int createModeFromProperty() {
        return Boolean.getBoolean(GROUP_SHARED_PROPERTY) ? GROUP_SHARED_CREATE_MODE : DEFAULT_CREATE_MODE;
    }

    /** One attempt without waiting; the descriptor holds the lock on the file the path names now. */
    Optional<NativeFlock.Descriptor> tryLock(Path path, LockMode mode) throws IOException {
        for (int round = 1; ; round++) {
            NativeFlock.Descriptor descriptor = descriptors.borrow(path);
            boolean locked = false;
            try {
                requireWritableFor(path, mode, descriptor);
                beforeLock.accept(path);
                if (!flock.lock(descriptor.fd(), mode, false, path)) {
                    descriptors.giveBack(path, descriptor);
                    return Optional.empty();
                }
                locked = true;
                if (flock.sameFile(descriptor.fd(), path)) {
                    return Optional.of(descriptor);
                }
            } catch (IOException | RuntimeException e) {
                abandon(path, descriptor, locked);
                throw e;
            }
            abandon(path, descriptor, true); // the file was replaced: lock the new one
            if (round >= MAX_REPLACED_RETRIES) {
                throw replacedTooOften(path, round);
            }
        }
    }

    /**
     * Waits in the kernel up to {@code timeoutNanos}; empty when the time ran out or the locked file turned out
     * to be replaced (the caller's next try opens the path afresh).
     */
    Optional<NativeFlock.Descriptor> awaitLock(Path path, LockMode mode, long timeoutNanos)
            throws IOException, InterruptedException {
        beforeLock.accept(path);
        Optional<NativeFlock.Descriptor> taken = waits.await(path, mode, timeoutNanos);
        if (taken.isEmpty()) {
            return taken;
        }
        NativeFlock.Descriptor descriptor = taken.get();
        boolean same;
        try {
            requireWritableFor(path, mode, descriptor);
            same = flock.sameFile(descriptor.fd(), path);
        } catch (IOException | RuntimeException e) {
            abandon(path, descriptor, true);
            throw e;
        }
        if (!same) {
            abandon(path, descriptor, true);
            return Optional.empty();
        }
        return taken;
    }

    /** Unlocks and keeps the descriptor for the next use. */
    void unlock(Path path, NativeFlock.Descriptor descriptor) throws IOException {
        try {
            flock.unlock(descriptor.fd(), path);
        } catch (IOException e) {
            descriptors.discard(path, descriptor); // closing drops this description's lock all the same
            throw e;
        }
        descriptors.giveBack(path, descriptor);
    }

    /** Drops a descriptor that may hold the lock: unlock (best effort) and close, never throwing. */
    void abandon(Path path, NativeFlock.Descriptor descriptor, boolean locked) {
        if (locked) {
            try {
                flock.unlock(descriptor.fd(), path);
            } catch (IOException e) {
                // the close below drops the lock of this description anyway
            }
        }
        descriptors.discard(path, descriptor);
    }

    private static void requireWritableFor(Path path, LockMode mode, NativeFlock.Descriptor descriptor) {
        if (mode == LockMode.EXCLUSIVE && !descriptor.writable()) {
            throw new LockIOException(
                    "lock",
                    path,
                    "the lock file is read-only for this process, so it can only be locked shared (an exclusive"
                            + " holder must write the owner record); make it writable, for example with"
                            + " -D" + GROUP_SHARED_PROPERTY + "=true for group-shared caches, or ask for a shared lock",
                    new AccessDeniedException(path.toString()));
        }
    }

    private static FileSystemException replacedTooOften(Path path, int round) {
        return new FileSystemException(
                path.toString(),
                null,
                "the lock file was replaced " + round + " times while being locked; something deletes or renames"
                        + " lock files in this directory, which breaks locking: stop it");
    }
}
