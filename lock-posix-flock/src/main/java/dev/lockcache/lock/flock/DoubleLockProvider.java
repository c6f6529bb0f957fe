package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.FcntlChannels;
import dev.lockcache.lock.spi.FcntlProbe;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.OwnerRecordSlot;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code double} provider, for paths that other programs lock too: it takes {@code flock} and then a
 * whole-file {@code fcntl} lock (through lock-api's {@link FcntlChannels}), and releases them in reverse, so it
 * excludes {@code flock(1)} and py-filelock users, {@code lockf}/{@code fcntl} users and Java {@code
 * FileChannel} users (the {@code nio} provider) alike. The fixed order (flock first) keeps two double holders
 * from deadlocking.
 *
 * <p>Waiting: blocks in the kernel for flock (on a helper thread, see {@link KernelWaits}), then tries fcntl and,
 * if a pure fcntl user holds it, blocks for fcntl on a private file within what is left of the timeout. The
 * owner record is read and written through the fcntl registry's file. The probe checks both halves: flock with two
 * descriptors, fcntl with a short-lived child process ({@link FcntlProbe}); the lock is usable only where both
 * exclude.
 */
public final class DoubleLockProvider implements LockProvider {

    /** The provider's name. */
    public static final String NAME = "double";

    private static final int MAX_REPLACED_RETRIES = 16;
    private static final Set<LockFeature> FEATURES = Set.copyOf(EnumSet.of(
            LockFeature.SHARED,
            LockFeature.CROSS_PROCESS,
            LockFeature.RELEASED_ON_CRASH,
            LockFeature.BLOCKING_HANDOFF));

    private final Availability availability;
    private final FcntlChannels channels;
    private final FcntlProbe fcntlProbe;
    private final FlockLocks locks;
    private final OwnerRecordSlot records =
            new OwnerRecordSlot(NAME, Set.of(NAME, FlockLockProvider.NAME, "nio", "ofd"));

    /** The provider as {@link java.util.ServiceLoader} creates it. */
    public DoubleLockProvider() {
        this(IdleDescriptors.limitFromProperty(), FlockLocks.createModeFromProperty(), path -> {});
    }

    /** For tests: a descriptor bound, a create mode, and a hook run just before each flock attempt. */
    DoubleLockProvider(int idleLimit, int createMode, Consumer<Path> beforeLock) {
        Availability flock = NativeFlock.availability();
        this.availability =
                flock.available() ? Availability.available(flock.reason() + ", plus FileChannel (fcntl) locks") : flock;
        this.channels = FcntlChannels.jvm();
        this.fcntlProbe = new FcntlProbe(channels);
        this.locks = flock.available()
                ? new FlockLocks(NativeFlock.get(), channels, idleLimit, createMode, beforeLock)
                : null;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<dev.lockcache.lock.spi.Mechanism> mechanisms() {
        return Set.of(dev.lockcache.lock.spi.Mechanism.FLOCK, dev.lockcache.lock.spi.Mechanism.FCNTL);
    }

    @Override
    public boolean optIn() {
        return true;
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
        ProbeResult flockHalf = FlockProbe.probe(directory, locks, availability);
        if (!flockHalf.usable()) {
            return flockHalf;
        }
        ProbeResult fcntlHalf = fcntlProbe.probe(directory);
        if (!fcntlHalf.usable()) {
            return new ProbeResult(
                    fcntlHalf.directory(),
                    fcntlHalf.verdict(),
                    fcntlHalf.fileSystemType(),
                    "flock excludes, but the fcntl half does not: " + fcntlHalf.reason());
        }
        return new ProbeResult(
                flockHalf.directory(),
                ProbeResult.Verdict.EXCLUDES,
                flockHalf.fileSystemType(),
                "both halves exclude: " + flockHalf.reason() + "; " + fcntlHalf.reason());
    }

    @Override
    public Optional<HeldLock> tryLock(LockRequest request) throws IOException {
        for (int round = 1; round <= MAX_REPLACED_RETRIES; round++) {
            Optional<NativeFlock.Descriptor> flock = locks().tryLock(request.path(), request.mode());
            if (flock.isEmpty()) {
                return Optional.empty();
            }
            FcntlChannels.Lease lease = openLease(request, flock.get());
            Optional<FileLock> fcntl;
            try {
                fcntl = lease.tryLock(request.mode());
            } catch (IOException | RuntimeException e) {
                lease.close();
                locks.abandon(request.path(), flock.get(), true);
                throw e;
            }
            Optional<Optional<HeldLock>> settled = settle(request, flock.get(), lease, fcntl);
            if (settled.isPresent()) {
                return settled.get();
            }
        }
        throw new LockIOException(
                "lock",
                request.path(),
                "the lock file keeps being replaced while it is locked; stop whatever deletes or renames it",
                new IOException("replaced " + MAX_REPLACED_RETRIES + " times"));
    }

    @Override
    public Optional<HeldLock> awaitLock(LockRequest request, long pollNanos, long remainingNanos)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        Optional<NativeFlock.Descriptor> flock = locks().awaitLock(request.path(), request.mode(), remainingNanos);
        if (flock.isEmpty()) {
            return Optional.empty();
        }
        FcntlChannels.Lease lease = openLease(request, flock.get());
        Optional<FileLock> fcntl;
        try {
            fcntl = lease.tryLock(request.mode());
            if (fcntl.isEmpty()) {
                long left = remainingNanos == Long.MAX_VALUE
                        ? Long.MAX_VALUE
                        : remainingNanos - (System.nanoTime() - start);
                fcntl = lease.awaitLock(request.mode(), left);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            lease.close();
            locks.abandon(request.path(), flock.get(), true);
            throw e;
        }
        return settle(request, flock.get(), lease, fcntl).orElse(Optional.empty());
    }

    @Override
    public void release(HeldLock lock) throws IOException {
        FlockHeldLock held = (FlockHeldLock) lock;
        FcntlChannels.Lease lease = held.lease.orElseThrow();
        String lost = "";
        try {
            lost = held.recordToken.isEmpty() ? "" : recordTakenOver(held, lease);
            held.fcntlLock.orElseThrow().release();
        } catch (ClosedChannelException e) {
            lost = "its fcntl file was closed while locked, which drops fcntl locks; something outside lockcache"
                    + " opened and closed the lock file in this JVM";
        } finally {
            lease.close();
            locks().unlock(held.path(), held.descriptor);
        }
        if (!lost.isEmpty()) {
            throw new LockLostException(held.path(), lost);
        }
    }

    @Override
    public LockOwner readOwner(Path lockFile) {
        return channels.readOwner(lockFile);
    }

    @Override
    public String toString() {
        return "DoubleLockProvider[" + NAME + "]";
    }

    private FlockLocks locks() {
        if (locks == null) {
            throw new IllegalStateException("the double provider is unavailable here: " + availability.reason());
        }
        return locks;
    }

    private FcntlChannels.Lease openLease(LockRequest request, NativeFlock.Descriptor flock) throws IOException {
        try {
            return channels.open(request.path());
        } catch (IOException | RuntimeException e) {
            locks.abandon(request.path(), flock, true);
            throw e;
        }
    }

    /**
     * Finishes an attempt that holds flock: empty (outer) when the fcntl file turned out replaced and the caller
     * should try again; an empty held lock when fcntl is busy. Undoes everything on failure.
     */
    private Optional<Optional<HeldLock>> settle(
            LockRequest request, NativeFlock.Descriptor flock, FcntlChannels.Lease lease, Optional<FileLock> fcntl)
            throws IOException {
        Path path = request.path();
        boolean kept = false;
        try {
            if (fcntl.isEmpty()) {
                return Optional.of(Optional.empty());
            }
            if (!lease.stillNamesPath() || !locks.flock.sameFile(flock.fd(), path)) {
                fcntl.get().release();
                lease.markReplaced();
                return Optional.empty();
            }
            long previous = records.previousGeneration(path, lease.readStart(OwnerRecord.MAX_BYTES + 1));
            FlockHeldLock held;
            if (request.mode() == LockMode.SHARED) {
                held = new FlockHeldLock(path, LockMode.SHARED, previous, flock, "", Optional.of(lease), fcntl);
            } else {
                OwnerRecord record = records.exclusiveRecord(path, previous + 1, request.operation());
                try {
                    lease.writeAtStart(record.encode().bytes());
                } catch (IOException e) {
                    throw new LockIOException(
                            "write owner record",
                            path,
                            "the lock was not taken; check free space and permissions of the lock directory",
                            e);
                }
                held = new FlockHeldLock(
                        path, LockMode.EXCLUSIVE, previous + 1, flock, record.token(), Optional.of(lease), fcntl);
            }
            kept = true;
            return Optional.of(Optional.of(held));
        } finally {
            if (!kept) {
                if (fcntl.isPresent() && fcntl.get().isValid()) {
                    fcntl.get().release();
                }
                lease.close(); // reverse order: fcntl first, then flock
                locks.abandon(path, flock, true);
            }
        }
    }

    private static String recordTakenOver(FlockHeldLock held, FcntlChannels.Lease lease) {
        try {
            LockOwner now = lease.readOwner();
            if (now instanceof LockOwner.Known known && !known.record().token().equals(held.recordToken)) {
                return "another holder wrote its owner record while this exclusive lock was held ("
                        + known.describe() + "); a process locked the path through a mechanism that excludes"
                        + " neither flock nor fcntl";
            }
        } catch (IOException e) {
            // cannot tell; the release goes on
        }
        return "";
    }
}
