package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.FcntlChannels;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.OwnerRecordSlot;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code flock} provider: {@code flock(2)} through jnr-posix, shared or exclusive, per open file description
 * (so it also excludes threads of one process that use separate descriptors), released by the kernel when the
 * holder dies.
 *
 * <p>Descriptors stay open between uses (a bounded number, {@link IdleDescriptors#LIMIT_PROPERTY}); lock files
 * are created {@code 0644}, or {@code 0664} with {@code -Dlockcache.flock.groupShared=true}, and kept. After
 * locking, {@code fstat} of the descriptor is compared with {@code stat} of the path, and a replaced file is
 * locked again. A waiter blocks in the kernel on a helper thread with a descriptor of its own, so timeouts and
 * interrupts work although native {@code flock} ignores both (see {@link KernelWaits}). Exclusive holders write
 * the owner record into the lock file (one {@code pwrite}); the fencing token is the previous record's
 * generation + 1, or the current generation for shared holders.
 */
public final class FlockLockProvider implements LockProvider {

    /** The provider's name. */
    public static final String NAME = "flock";

    private static final Set<LockFeature> FEATURES = Set.copyOf(EnumSet.of(
            LockFeature.SHARED,
            LockFeature.CROSS_PROCESS,
            LockFeature.RELEASED_ON_CRASH,
            LockFeature.BLOCKING_HANDOFF));

    private final Availability availability;
    private final FcntlChannels channels;
    private final FlockLocks locks;
    private final OwnerRecordSlot records = new OwnerRecordSlot(NAME, Set.of(NAME, DoubleLockProvider.NAME));

    /** The provider as {@link java.util.ServiceLoader} creates it. */
    public FlockLockProvider() {
        this(IdleDescriptors.limitFromProperty(), FlockLocks.createModeFromProperty(), path -> {});
    }

    /** For tests: a descriptor bound, a create mode, and a hook run just before each lock attempt. */
    FlockLockProvider(int idleLimit, int createMode, Consumer<Path> beforeLock) {
        this.availability = NativeFlock.availability();
        this.channels = FcntlChannels.jvm();
        this.locks = availability.available()
                ? new FlockLocks(NativeFlock.get(), channels, idleLimit, createMode, beforeLock)
                : null;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<dev.lockcache.lock.spi.Mechanism> mechanisms() {
        return Set.of(dev.lockcache.lock.spi.Mechanism.FLOCK);
    }

    @Override
    public Set<LockFeature> features() {
        return FEATURES;
    }

    @Override
    public Availability availability() {
        return availability;
    }

    @Override
    public ProbeResult probe(Path directory) {
        if (directory == null) {
            throw new IllegalArgumentException("directory must not be null");
        }
        return FlockProbe.probe(directory, locks, availability);
    }

    @Override
    public Optional<HeldLock> tryLock(LockRequest request) throws IOException {
        Optional<NativeFlock.Descriptor> taken = locks().tryLock(request.path(), request.mode());
        return taken.isEmpty() ? Optional.empty() : Optional.of(hold(request, taken.get()));
    }

    @Override
    public Optional<HeldLock> awaitLock(LockRequest request, long pollNanos, long remainingNanos)
            throws IOException, InterruptedException {
        Optional<NativeFlock.Descriptor> taken = locks().awaitLock(request.path(), request.mode(), remainingNanos);
        return taken.isEmpty() ? Optional.empty() : Optional.of(hold(request, taken.get()));
    }

    @Override
    public void release(HeldLock lock) throws IOException {
        FlockHeldLock held = (FlockHeldLock) lock;
        String lost = held.recordToken.isEmpty() ? "" : recordTakenOver(held);
        locks().unlock(held.path(), held.descriptor);
        if (!lost.isEmpty()) {
            throw new LockLostException(held.path(), lost);
        }
    }

    /**
     * Reads the owner record through lock-api's fcntl registry, which never closes a descriptor that could drop
     * an fcntl lock of this JVM on the same file (the {@code double} or {@code nio} provider).
     */
    @Override
    public LockOwner readOwner(Path lockFile) {
        return channels.readOwner(lockFile);
    }

    /** Idle descriptors kept open right now (for tests of the bound). */
    int idleDescriptors() {
        return locks().descriptors.size();
    }

    /** Abandoned kernel waits still blocked (for tests). */
    int parkedWaits() {
        return locks().waits.parkedWaits();
    }

    @Override
    public String toString() {
        return "FlockLockProvider[" + NAME + "]";
    }

    private FlockLocks locks() {
        if (locks == null) {
            throw new IllegalStateException("the flock provider is unavailable here: " + availability.reason());
        }
        return locks;
    }

    /** Reads the previous record, writes ours if exclusive; unlocks and rethrows if that fails. */
    private HeldLock hold(LockRequest request, NativeFlock.Descriptor descriptor) throws IOException {
        Path path = request.path();
        NativeFlock flock = locks.flock;
        try {
            long previous = records.previousGeneration(path, readRecord(descriptor, path));
            if (request.mode() == LockMode.SHARED) {
                return new FlockHeldLock(
                        path, LockMode.SHARED, previous, descriptor, "", Optional.empty(), Optional.empty());
            }
            OwnerRecord record = records.exclusiveRecord(path, previous + 1, request.operation());
            try {
                flock.writeAtStart(descriptor.fd(), record.encode().bytes(), path);
            } catch (IOException e) {
                throw new LockIOException(
                        "write owner record",
                        path,
                        "the lock was not taken; check free space and permissions of the lock directory",
                        e);
            }
            return new FlockHeldLock(
                    path,
                    LockMode.EXCLUSIVE,
                    previous + 1,
                    descriptor,
                    record.token(),
                    Optional.empty(),
                    Optional.empty());
        } catch (IOException | RuntimeException e) {
            locks.abandon(path, descriptor, true);
            throw e;
        }
    }

    /** The record's bytes: one small read, a second only for an unusually long record. */
    private byte[] readRecord(NativeFlock.Descriptor descriptor, Path path) throws IOException {
        byte[] raw = new byte[OwnerRecordSlot.TYPICAL_BYTES];
        int length = locks.flock.readFromStart(descriptor.fd(), raw, path);
        if (length == raw.length) {
            raw = new byte[OwnerRecord.MAX_BYTES + 1];
            length = locks.flock.readFromStart(descriptor.fd(), raw, path);
        }
        return length == raw.length ? raw : java.util.Arrays.copyOf(raw, length);
    }

    private String recordTakenOver(FlockHeldLock held) {
        try {
            byte[] raw = readRecord(held.descriptor, held.path());
            if (OwnerRecordSlot.carriesToken(raw, held.recordToken)) {
                return ""; // still our record: the common case, decided without parsing
            }
            LockOwner now = OwnerRecord.parse(raw, raw.length);
            if (now instanceof LockOwner.Known known && !known.record().token().equals(held.recordToken)) {
                return "another holder wrote its owner record while this exclusive lock was held ("
                        + known.describe() + "); a process locked the path through a mechanism that does not"
                        + " exclude flock";
            }
        } catch (IOException e) {
            // cannot tell; the release itself goes on
        }
        return "";
    }
}
