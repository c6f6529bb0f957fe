package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.Ticker;
import dev.lockcache.lock.UnsafePathException;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code exclusive-create} lock provider: a lock is an owner record published atomically at the lock
 * path, the mechanism that still works where kernel locks do not (NFS without lockd, cluster filesystems with
 * node-local locks, unknown FUSE). Exclusive mode only; across processes and hosts; stale holders are
 * recovered with proof.
 *
 * <h2>Acquire</h2>
 * The record ({@link dev.lockcache.lock.OwnerRecord}) is written completely to {@code .<lock>.<token>.tmp} in
 * the lock's directory, forced to storage where the filesystem could otherwise show other hosts a short file,
 * and hard-linked to the lock path ({@code link(2)} fails if the path exists); the temporary name is removed.
 * Nobody ever reads a half-written record of a live holder. Where the directory has no hard links, the record
 * is created with {@code CREATE_NEW} and written in place, and readers treat the brief empty file as
 * unreadable. Holding the lock, the holder takes the next generation from {@code <lock>.gen} and appends it there
 * (the handle's fencing token, see {@link GenerationFile}) and from then on bumps the record's heartbeat every {@link
 * #heartbeatPeriod()} on a shared daemon thread.
 *
 * <h2>Release</h2>
 * Compare-then-delete would be racy: a breaker could replace the record between the check and the delete,
 * and the delete would remove the newcomer's lock. So release first checks that the lock path still names the
 * holder's own file (and leaves anything else untouched), then renames the lock path to a unique name in the
 * same directory (atomic: the file is taken out of everybody's way in one step), then checks that the renamed
 * file is this holder's own (the same file the holder still has open, or the same token where the platform
 * has no file identity), and deletes it. If it is not ours the lock had been broken and re-taken: the foreign
 * record is put back with {@code link(2)} (which refuses to overwrite a record created meanwhile) and the
 * release throws {@link LockLostException}; a missing lock file throws it too. A breaker holding its guard
 * and a releasing holder can only race for the same rename, which exactly one wins.
 *
 * <h2>Stale holders</h2>
 * A waiter breaks a lock only with proof: the holder is on this host and its process is gone or its pid was
 * recycled (another start time), or the record has shown the same token and heartbeat for a whole {@link
 * #lease()} measured on the waiter's own {@link Ticker}. An empty or partial record counts as a holder that
 * has not beaten yet. Breakers serialise on a guard file {@code <lock>.break}, re-check the record under it
 * and rename it away only if it is still the judged one; breaks are logged at WARN with the previous owner.
 * In {@link #strict(boolean) strict} mode nothing is ever broken: a waiter times out and the timeout names
 * the holder. All processes sharing a lock must use the same lease.
 *
 * <h2>Waiting</h2>
 * Between attempts a waiter sleeps on a {@link java.nio.file.WatchService} event for the lock's directory
 * (Linux delivers one through inotify as soon as a holder on this host releases), bounded by the wait loop's
 * jittered backoff pause, which alone paces waits for holders on other hosts.
 *
 * <h2>Shared directories</h2>
 * Every file is named relative to the lock's directory, opened once per attempt and judged with {@link
 * dev.lockcache.lock.spi.DirectoryTrust} (see {@link LockDirectory}): nothing is ever followed through a
 * symlink, nothing that is not a regular file is opened for reading, every read is bounded, files are
 * created {@code 0600} whatever the umask, and an existing lock path, {@code .gen} or guard that is a symlink,
 * FIFO, device, hard-linked or foreign file (or, in a sticky shared directory, not this user's) is refused with
 * {@link dev.lockcache.lock.UnsafePathException}. A file at the lock path that is not an owner record is
 * refused, never treated as a stale lock, never deleted. Records another account could have written prove
 * nothing ({@link StaleHolderJudge}). A fencing token is issued only once its generation is appended to
 * {@code .gen} and the record is seen still in place ({@link GenerationFile}); the heartbeat tells the
 * handle's loss listeners as soon as the record is gone or replaced.
 *
 * <p>Instances are immutable and thread-safe; the {@code with...} methods return new instances. The no-arg
 * constructor reads {@link #LEASE_PROPERTY}, {@link #STRICT_PROPERTY} and {@link #FORCE_PROPERTY}.
 */
public final class ExclusiveCreateLockProvider implements LockProvider {

    /** The provider's name. */
    public static final String NAME = "exclusive-create";

    /** How often a waiter on a local filesystem re-checks a holder it is not woken for (to judge staleness). */
    static final Duration LOCAL_POLL = Duration.ofMillis(250);

    /**
     * System property: the lease as an ISO-8601 duration ({@code PT30S}); default {@link #DEFAULT_LEASE}. The
     * heartbeat period is a third of it.
     */
    public static final String LEASE_PROPERTY = "lockcache.exclusive-create.lease";

    /** System property: {@code true} to never break stale locks automatically; default {@code false}. */
    public static final String STRICT_PROPERTY = "lockcache.exclusive-create.strict";

    /**
     * System property: {@code true} to force every record to storage before publishing it, even on local
     * filesystems where every process already sees it complete; default {@code false} (forced only on
     * network, FUSE and unknown filesystems).
     */
    public static final String FORCE_PROPERTY = "lockcache.exclusive-create.force";

    /** The default lease: a silent holder is stale after this long. */
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);

    private final Duration lease;
    private final Duration heartbeatPeriod;
    private final boolean strict;
    private final boolean alwaysForce;
    private final Ticker ticker;
    private final Seams seams;

    private final StaleHolderJudge judge;
    private final LockBreaker breaker;
    private final RecordPublisher publisher;

    /** What tests replace: how links are made, and the pause points that hold a race window open. */
    record Seams(
            Linking linking,
            LockBreaker.Hook breakHook,
            LockDirectory.Pause directoryPause,
            RecordPublisher.Pause publishPause) {
        static final Seams NONE =
                new Seams(Linking.JDK, LockBreaker.Hook.NONE, LockDirectory.Pause.NONE, RecordPublisher.Pause.NONE);

        Seams withLinking(Linking newLinking) {
            return new Seams(newLinking, breakHook, directoryPause, publishPause);
        }

        Seams withBreakHook(LockBreaker.Hook hook) {
            return new Seams(linking, hook, directoryPause, publishPause);
        }

        Seams withDirectoryPause(LockDirectory.Pause pause) {
            return new Seams(linking, breakHook, pause, publishPause);
        }

        Seams withPublishPause(RecordPublisher.Pause pause) {
            return new Seams(linking, breakHook, directoryPause, pause);
        }
    }

    /** A provider configured from system properties (see the constants), else with the defaults. */
    public ExclusiveCreateLockProvider() {
        this(leaseFromProperty());
    }

    private ExclusiveCreateLockProvider(Duration lease) {
        this(
                lease,
                lease.dividedBy(3),
                Boolean.getBoolean(STRICT_PROPERTY),
                Boolean.getBoolean(FORCE_PROPERTY),
                Ticker.system(),
                Seams.NONE);
    }

    private ExclusiveCreateLockProvider(
            Duration lease, Duration heartbeatPeriod, boolean strict, boolean alwaysForce, Ticker ticker, Seams seams) {
        this.lease = lease;
        this.heartbeatPeriod = heartbeatPeriod;
        this.strict = strict;
        this.alwaysForce = alwaysForce;
        this.ticker = ticker;
        this.seams = seams;
        this.judge = new StaleHolderJudge(lease, ticker);
        this.breaker = new LockBreaker(judge, seams.breakHook(), seams.linking());
        this.publisher = new RecordPublisher(seams.linking(), alwaysForce, seams.publishPause());
    }

    /** The same provider with lease {@code newLease} and a heartbeat every third of it. */
    public ExclusiveCreateLockProvider withLease(Duration newLease) {
        requirePositive(newLease, "lease");
        return new ExclusiveCreateLockProvider(newLease, newLease.dividedBy(3), strict, alwaysForce, ticker, seams);
    }

    /** The same provider with the heartbeat bumped every {@code period}, which must be shorter than the lease. */
    public ExclusiveCreateLockProvider withHeartbeatPeriod(Duration period) {
        requirePositive(period, "heartbeat period");
        if (period.compareTo(lease) >= 0) {
            throw new IllegalArgumentException("heartbeat period " + period + " must be shorter than the lease " + lease
                    + ", or waiters would break live holders");
        }
        return new ExclusiveCreateLockProvider(lease, period, strict, alwaysForce, ticker, seams);
    }

    /** The same provider that never ({@code true}) or, with proof, does ({@code false}) break stale locks. */
    public ExclusiveCreateLockProvider strict(boolean neverBreak) {
        return new ExclusiveCreateLockProvider(lease, heartbeatPeriod, neverBreak, alwaysForce, ticker, seams);
    }

    /** The same provider forcing every record to storage before publishing ({@code true}), or only off local disks. */
    public ExclusiveCreateLockProvider forceAlways(boolean force) {
        return new ExclusiveCreateLockProvider(lease, heartbeatPeriod, strict, force, ticker, seams);
    }

    /** The same provider measuring leases on {@code newTicker} (for tests of stale holders). */
    public ExclusiveCreateLockProvider withTicker(Ticker newTicker) {
        if (newTicker == null) {
            throw new IllegalArgumentException("ticker must not be null; use Ticker.system()");
        }
        return new ExclusiveCreateLockProvider(lease, heartbeatPeriod, strict, alwaysForce, newTicker, seams);
    }

    ExclusiveCreateLockProvider withLinking(Linking newLinking) {
        return withSeams(seams.withLinking(newLinking));
    }

    ExclusiveCreateLockProvider withBreakHook(LockBreaker.Hook hook) {
        return withSeams(seams.withBreakHook(hook));
    }

    ExclusiveCreateLockProvider withSeams(Seams newSeams) {
        return new ExclusiveCreateLockProvider(lease, heartbeatPeriod, strict, alwaysForce, ticker, newSeams);
    }

    Seams seams() {
        return seams;
    }

    /** How long a record must stay unchanged before a waiter may break it. */
    public Duration lease() {
        return lease;
    }

    /** How often a holder bumps its heartbeat. */
    public Duration heartbeatPeriod() {
        return heartbeatPeriod;
    }

    /** Whether this provider never breaks stale locks. */
    public boolean isStrict() {
        return strict;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<dev.lockcache.lock.spi.Mechanism> mechanisms() {
        return Set.of(dev.lockcache.lock.spi.Mechanism.EXCLUSIVE_CREATE);
    }

    @Override
    public Set<LockFeature> features() {
        return strict
                ? EnumSet.of(LockFeature.CROSS_PROCESS, LockFeature.CROSS_HOST)
                : EnumSet.of(LockFeature.CROSS_PROCESS, LockFeature.CROSS_HOST, LockFeature.STALE_RECOVERY);
    }

    @Override
    public Availability availability() {
        return Availability.available(
                "pure JDK: exclusive create, hard links and rename through java.nio.file, no native code");
    }

    @Override
    public ProbeResult probe(Path directory) {
        return ExclusiveCreateProbe.probe(directory, seams.linking());
    }

    @Override
    public Optional<HeldLock> tryLock(LockRequest request) throws IOException {
        Path path = request.path();
        String name = path.getFileName().toString();
        LockDirectory directory = LockDirectory.open(path, seams.directoryPause());
        boolean handedOver = false;
        try {
            for (int round = 0; ; round++) {
                // A waiter polling a lock it saw held looks before it publishes: writing, linking and deleting a
                // temporary record on every poll is what made a blocked waiter costly.
                Optional<RecordSnapshot> seenHeld = round == 0 && judge.observing(path)
                        ? RecordSnapshot.readRecord(directory, name)
                        : Optional.empty();
                if (seenHeld.isEmpty()) {
                    Optional<LockDirectory.Entry> there = directory.stat(name);
                    if (there.isPresent()) {
                        directory.requireSafeLockFile(name, there.get());
                    } else {
                        Optional<ExclusiveHold> hold = publisher.tryPublish(directory, path, request.operation());
                        if (hold.isPresent()) {
                            handedOver = true;
                            judge.forget(path);
                            Heartbeats.start(hold.get(), heartbeatPeriod);
                            return Optional.of(hold.get());
                        }
                        breakAgedGuard(directory, name);
                    }
                }
                if (strict || round > 0) {
                    return Optional.empty();
                }
                Optional<RecordSnapshot> current =
                        seenHeld.isPresent() ? seenHeld : RecordSnapshot.readRecord(directory, name);
                if (current.isEmpty()) {
                    continue; // released meanwhile: one more try
                }
                Optional<String> proof = judge.proofOfStaleness(path, current.get());
                if (proof.isEmpty() || !breaker.breakIfUnchanged(directory, path, current.get(), proof.get())) {
                    return Optional.empty();
                }
            }
        } finally {
            if (!handedOver) {
                directory.close();
            }
        }
    }

    /** A publisher that withdrew because of a breaker guard clears the guard once it has aged a lease. */
    private void breakAgedGuard(LockDirectory directory, String name) throws IOException {
        if (!strict && directory.keyInDirectory(LockBreaker.guardName(name)) != null) {
            breaker.breakGuardIfAged(directory, LockBreaker.guardName(name));
        }
    }

    @Override
    public Optional<HeldLock> awaitLock(LockRequest request, long pollNanos, long remainingNanos)
            throws InterruptedException {
        long wait = Math.min(pollNanos, remainingNanos);
        if (publisher.isLocal(request.path().getParent())) {
            // On a local filesystem the directory watch reports every release, so polls are only needed to judge
            // staleness: poll at a slow pace instead of the caller's backoff (a blocked waiter then costs a few
            // ms of CPU a second, not tens). Network filesystems report no remote release: keep the backoff.
            wait = Math.min(remainingNanos, Math.max(pollNanos, LOCAL_POLL.toNanos()));
        }
        DirectoryWatchers.SHARED.awaitRemoval(request.path(), wait);
        return Optional.empty();
    }

    /**
     * Reads the owner record at {@code lockFile} without following a link, without opening anything that is not
     * a regular file this process may trust, and within {@link OwnerRecord#MAX_BYTES}; never throws and never
     * blocks on a FIFO.
     */
    @Override
    public LockOwner readOwner(Path lockFile) {
        Path absolute = lockFile.toAbsolutePath();
        if (absolute.getParent() == null || absolute.getFileName() == null) {
            return new LockOwner.Absent();
        }
        try (LockDirectory directory = LockDirectory.open(absolute, LockDirectory.Pause.NONE)) {
            return RecordSnapshot.readRecord(directory, absolute.getFileName().toString())
                    .map(RecordSnapshot::owner)
                    .orElse(new LockOwner.Absent());
        } catch (NoSuchFileException e) {
            return new LockOwner.Absent();
        } catch (UnsafePathException e) {
            return new LockOwner.Unreadable(e.getMessage());
        } catch (IOException | RuntimeException e) {
            return new LockOwner.Unreadable("cannot read " + absolute + ": " + e);
        }
    }

    @Override
    public void release(HeldLock lock) throws IOException {
        if (!(lock instanceof ExclusiveHold hold)) {
            throw new IllegalArgumentException("not a lock of the exclusive-create provider: " + lock);
        }
        hold.stopBeating();
        Optional<String> overwritten = hold.lostNow(); // a peer that wrote into our record in place keeps its inode
        RenameAway.Outcome outcome;
        try {
            outcome = RenameAway.removeOwn(hold.directory(), hold.name(), "release", hold.fileKey(), hold.linking());
        } finally {
            hold.closeRecord();
        }
        switch (outcome.kind()) {
            case REMOVED -> {
                if (overwritten.isPresent()) {
                    throw new LockLostException(hold.path(), overwritten.get());
                }
            }
            case ABSENT ->
                throw new LockLostException(
                        hold.path(),
                        "the lock file was gone at release (a breaker judged this holder stale: no heartbeat for a"
                                + " lease of " + lease.toMillis() + " ms, or its process looked dead)");
            case FOREIGN_RESTORED, FOREIGN_UNTOUCHED ->
                throw new LockLostException(
                        hold.path(),
                        "the lock file holds another holder's record ("
                                + outcome.found().describe() + "); it was left in place");
            case FOREIGN_LOST ->
                throw new LockLostException(
                        hold.path(),
                        "the lock file held another holder's record ("
                                + outcome.found().describe()
                                + ") and a third process created the lock while it was checked; both may hold it");
            default -> throw new IllegalStateException("unknown outcome " + outcome);
        }
    }

    @Override
    public String toString() {
        return "ExclusiveCreateLockProvider[lease " + lease + ", heartbeat " + heartbeatPeriod
                + (strict ? ", strict" : "") + (alwaysForce ? ", force always" : "") + "]";
    }

    private static Duration leaseFromProperty() {
        String value = System.getProperty(LEASE_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_LEASE;
        }
        try {
            Duration lease = Duration.parse(value.strip());
            requirePositive(lease, "lease");
            return lease;
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    "system property " + LEASE_PROPERTY + "='" + value + "' is not an ISO-8601 duration such as PT30S",
                    e);
        }
    }

    private static void requirePositive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be a positive duration, was " + d);
        }
    }
}
