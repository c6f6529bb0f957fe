package dev.lockcache.lock.nio;

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
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code nio} provider: whole-file {@link java.nio.channels.FileChannel} locks (position 0, size {@link
 * Long#MAX_VALUE}), shared or exclusive.
 *
 * <p>All opens go through {@link FcntlChannels#jvm()}, so reading the owner record, probing or another
 * fcntl-based provider never closes a descriptor that would drop this JVM's lock. A waiter blocks in the
 * kernel ({@link java.nio.channels.FileChannel#lock}) on a private file of its own: a timeout closes that file
 * and an interrupt closes it too, which drops no lock anyone depends on, because this JVM holds no lock on the
 * path while one of its threads waits for it. When the wait succeeds the private file becomes the path's
 * registered file, so the lock is held through the file the registry keeps open.
 *
 * <p>After locking, the provider checks that the path still names the file it locked (a lock file replaced
 * under a waiter would split waiters across two files) and locks again if not. Exclusive holders write the
 * owner record into the lock file, with generation = previous generation + 1 as the fencing token; shared
 * holders write nothing and get the current generation.
 */
public final class FileChannelLockProvider implements LockProvider {

    /** The provider's name. */
    public static final String NAME = "nio";

    private static final int MAX_REPLACED_RETRIES = 16;
    private static final Set<LockFeature> FEATURES = Set.copyOf(EnumSet.of(
            LockFeature.SHARED,
            LockFeature.CROSS_PROCESS,
            LockFeature.CROSS_HOST,
            LockFeature.RELEASED_ON_CRASH,
            LockFeature.BLOCKING_HANDOFF));

    private final FcntlChannels channels;
    private final Consumer<Path> beforeLock;
    private final OwnerRecordSlot records = new OwnerRecordSlot(NAME, Set.of(NAME, "double", "ofd"));
    private final FcntlProbe probes;

    /** The provider over this JVM's registry; what {@link java.util.ServiceLoader} creates. */
    public FileChannelLockProvider() {
        this(FcntlChannels.jvm(), path -> {});
    }

    /** For tests: {@code beforeLock} runs after the file is opened and before it is locked. */
    FileChannelLockProvider(FcntlChannels channels, Consumer<Path> beforeLock) {
        this.channels = channels;
        this.beforeLock = beforeLock;
        this.probes = new FcntlProbe(channels);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<dev.lockcache.lock.spi.Mechanism> mechanisms() {
        return Set.of(dev.lockcache.lock.spi.Mechanism.FCNTL);
    }

    @Override
    public Set<LockFeature> features() {
        return FEATURES;
    }

    @Override
    public Availability availability() {
        return Availability.available("FileChannel locks are part of the JDK (fcntl on POSIX, LockFileEx on Windows)");
    }

    @Override
    public ProbeResult probe(Path directory) {
        if (directory == null) {
            throw new IllegalArgumentException("directory must not be null");
        }
        return probes.probe(directory);
    }

    @Override
    public Optional<HeldLock> tryLock(LockRequest request) throws IOException {
        for (int round = 1; ; round++) {
            FcntlChannels.Lease lease = channels.open(request.path());
            Attempt attempt;
            try {
                beforeLock.accept(request.path());
                attempt = settle(request, lease, lease.tryLock(request.mode()));
            } catch (IOException | RuntimeException e) {
                lease.close();
                throw e;
            }
            if (!attempt.replaced()) {
                return attempt.held();
            }
            giveUpIfReplacedTooOften(request, round);
        }
    }

    @Override
    public Optional<HeldLock> awaitLock(LockRequest request, long pollNanos, long remainingNanos)
            throws IOException, InterruptedException {
        FcntlChannels.Lease lease = channels.open(request.path());
        Attempt attempt;
        try {
            beforeLock.accept(request.path());
            attempt = settle(request, lease, lease.awaitLock(request.mode(), remainingNanos));
        } catch (IOException | InterruptedException | RuntimeException e) {
            lease.close();
            throw e;
        }
        return attempt.held(); // if the file was replaced, the wait loop's next try opens the path afresh
    }

    @Override
    public void release(HeldLock lock) throws IOException {
        NioHeldLock held = (NioHeldLock) lock;
        try {
            String lostBecause = held.recordToken.isEmpty() ? "" : recordTakenOver(held);
            try {
                held.lock.release();
            } catch (ClosedChannelException e) {
                throw new LockLostException(
                        held.path(),
                        "its file was closed while locked, which drops fcntl locks; something outside lockcache"
                                + " opened and closed the lock file in this JVM");
            }
            if (!lostBecause.isEmpty()) {
                throw new LockLostException(held.path(), lostBecause);
            }
        } finally {
            held.lease.close();
        }
    }

    @Override
    public LockOwner readOwner(Path lockFile) {
        return channels.readOwner(lockFile);
    }

    @Override
    public String toString() {
        return "FileChannelLockProvider[" + NAME + "]";
    }

    /** What became of one lock attempt: held, contended, or locked a file that the path no longer names. */
    private record Attempt(Optional<HeldLock> held, boolean replaced) {
        static final Attempt CONTENDED = new Attempt(Optional.empty(), false);
        static final Attempt REPLACED = new Attempt(Optional.empty(), true);
    }

    /**
     * Turns a fresh lock into a held lock: checks that the path still names the locked file, then reads the
     * previous record and writes ours. Releases the lock when the file was replaced; closes the lease whenever
     * nothing is held.
     */
    private Attempt settle(LockRequest request, FcntlChannels.Lease lease, Optional<FileLock> taken)
            throws IOException {
        if (taken.isEmpty()) {
            lease.close();
            return Attempt.CONTENDED;
        }
        FileLock lock = taken.get();
        boolean kept = false;
        try {
            if (!lease.stillNamesPath()) {
                lock.release();
                lease.markReplaced();
                return Attempt.REPLACED;
            }
            long previous = records.previousGeneration(request.path(), lease.readStart(OwnerRecord.MAX_BYTES + 1));
            NioHeldLock held;
            if (request.mode() == LockMode.EXCLUSIVE) {
                OwnerRecord record = records.exclusiveRecord(request.path(), previous + 1, request.operation());
                writeRecord(lease, record);
                held = new NioHeldLock(lease, lock, LockMode.EXCLUSIVE, previous + 1, record.token());
            } else {
                held = new NioHeldLock(lease, lock, LockMode.SHARED, previous, "");
            }
            kept = true;
            return new Attempt(Optional.of(held), false);
        } finally {
            if (!kept) {
                if (lock.isValid()) {
                    lock.release();
                }
                lease.close();
            }
        }
    }

    private static void writeRecord(FcntlChannels.Lease lease, OwnerRecord record) {
        try {
            lease.writeAtStart(record.encode().bytes());
        } catch (IOException e) {
            throw new LockIOException(
                    "write owner record",
                    lease.path(),
                    "the lock was not taken; check free space and permissions of the lock directory",
                    e);
        }
    }

    /** Why the lock must count as lost: another holder's record replaced ours while we held exclusively. */
    private static String recordTakenOver(NioHeldLock held) {
        try {
            LockOwner now = held.lease.readOwner();
            if (now instanceof LockOwner.Known known && !known.record().token().equals(held.recordToken)) {
                return "another holder wrote its owner record while this exclusive lock was held ("
                        + known.describe() + "); a process locked the path through a mechanism that does not"
                        + " exclude FileChannel locks";
            }
            return "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void giveUpIfReplacedTooOften(LockRequest request, int round) throws IOException {
        if (round >= MAX_REPLACED_RETRIES) {
            throw new FileSystemException(
                    request.path().toString(),
                    null,
                    "the lock file was replaced " + round + " times while being locked; something deletes or"
                            + " renames lock files in this directory, which breaks locking: stop it");
        }
    }
}
