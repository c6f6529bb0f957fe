package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.Ticker;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, with proof only, that the holder of a lock (or of a breaker guard) is stale.
 *
 * <p>Two proofs count. <b>Process:</b> the record was written on this host and its pid is gone, or the pid
 * now belongs to a process that started at another time than the record says (a recycled pid). <b>Lease:</b>
 * the file has shown the same state (same token and heartbeat; for an unreadable record the same file with
 * the same bytes) for a whole lease, measured on this waiter's own {@link Ticker} from the moment it first saw
 * that state. Clocks of different hosts are never compared, and an empty or partial record is simply a state
 * that has to stay unchanged for a lease like any other ("no heartbeat yet").
 *
 * <p><b>What the proof rests on.</b> A record is believed only when nobody but this user (or root) could have
 * written it: the file, seen through {@code lstat} without following links, is owned by this user or root and
 * its mode lets nobody else write it (no group or other write bit; group write only with the group-shared
 * opt-in of {@link dev.lockcache.lock.spi.DirectoryTrust}). lockcache creates its records with mode {@code 0600}
 * set after creation, so the umask and default ACLs do not matter; the lock's directory is owned by this user
 * or root and others cannot write it, or it is sticky and the file is this user's, so nobody else can replace
 * the file either. The content of a record that fails this test (say a forged {@code start=} in a file
 * another account could write) is never used as proof, and such a lock is never broken automatically: its
 * waiters time out naming it. Root, and this user's own processes, are trusted.
 *
 * <p>Observations are kept per path, for the most recently judged {@value #MAX_OBSERVED} paths; forgetting
 * one only delays a break, never causes one. Thread-safe.
 */
final class StaleHolderJudge {

    static final int MAX_OBSERVED = 1024;
    private static final Logger LOG = LoggerFactory.getLogger(StaleHolderJudge.class);

    private final Duration lease;
    private final Ticker ticker;
    private final Map<Path, Observation> observations = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Observation> eldest) {
            return size() > MAX_OBSERVED;
        }
    };

    private final Map<String, ProcessHandle> liveHolders = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ProcessHandle> eldest) {
            return size() > 256;
        }
    };

    private final Map<Path, Boolean> warnedUnbelievable = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Boolean> eldest) {
            return size() > 256;
        }
    };

    private record Observation(RecordSnapshot state, long firstSeenNanos) {}

    StaleHolderJudge(Duration lease, Ticker ticker) {
        this.lease = lease;
        this.ticker = ticker;
    }

    /** The proof that the holder seen in {@code current} at {@code path} is stale, if there is one. */
    Optional<String> proofOfStaleness(Path path, RecordSnapshot current) {
        if (!believable(path, current)) {
            return Optional.empty();
        }
        Optional<String> processProof = current.record().flatMap(this::cachedProcessProof);
        return processProof.isPresent() ? processProof : leaseProof(path, current);
    }

    /** The proof that {@code current} has not changed for a lease, if it has not; starts observing otherwise. */
    Optional<String> leaseProof(Path path, RecordSnapshot current) {
        if (!believable(path, current)) {
            return Optional.empty();
        }
        long now = ticker.read();
        synchronized (observations) {
            Observation seen = observations.get(path);
            if (seen == null || !seen.state().sameState(current)) {
                observations.put(path, new Observation(current, now));
                return Optional.empty();
            }
            long unchanged = now - seen.firstSeenNanos();
            if (unchanged < lease.toNanos()) {
                return Optional.empty();
            }
            return Optional.of("its record has not changed for "
                    + Duration.ofNanos(unchanged).toMillis() + " ms on this process's monotonic clock (lease "
                    + lease.toMillis() + " ms)");
        }
    }

    /** Whether {@code current} could have been written only by this user or root (see the class comment). */
    boolean believable(Path path, RecordSnapshot current) {
        LockDirectory.Entry entry = current.entry();
        if (entry.ownedByUsOrRoot() && entry.writableOnlyByOwner()) {
            return true;
        }
        synchronized (warnedUnbelievable) {
            if (warnedUnbelievable.put(path, Boolean.TRUE) == null) {
                LOG.warn(
                        "not breaking lock {}: its record (owner uid {}, mode {}) could have been written by another"
                                + " user, so it proves nothing; remove it by hand if its holder is gone",
                        path,
                        entry.uid(),
                        Integer.toOctalString(entry.mode() & 07777));
            }
        }
        return false;
    }

    /** Whether a holder of {@code path} was seen recently (a waiter is polling it). */
    boolean observing(Path path) {
        synchronized (observations) {
            return observations.containsKey(path);
        }
    }

    /** Drops what was observed at {@code path} (it was acquired or broken). */
    void forget(Path path) {
        synchronized (observations) {
            observations.remove(path);
        }
    }

    /**
     * {@link #processProof}, but a holder process already verified (pid and start time) is only asked whether it
     * is still alive: reading a process's start time costs several /proc reads, and a waiter polls many times a
     * second. The JDK's handle compares the start time itself on {@link ProcessHandle#isAlive()}, so a pid that
     * dies and is reused is still seen as gone.
     */
    private Optional<String> cachedProcessProof(OwnerRecord record) {
        if (!record.isThisHost() || record.processStartMillis() < 0) {
            return processProof(record);
        }
        ProcessHandle verified;
        synchronized (liveHolders) {
            verified = liveHolders.get(record.pid() + "@" + record.processStartMillis());
        }
        if (verified != null) {
            return verified.isAlive()
                    ? Optional.empty()
                    : Optional.of("its process " + record.pid() + " on this host is gone");
        }
        Optional<String> proof = processProof(record);
        if (proof.isEmpty()) {
            ProcessHandle.of(record.pid())
                    .filter(handle -> handle.info()
                            .startInstant()
                            .map(start -> start.toEpochMilli() == record.processStartMillis())
                            .orElse(false))
                    .ifPresent(handle -> {
                        synchronized (liveHolders) {
                            liveHolders.put(record.pid() + "@" + record.processStartMillis(), handle);
                        }
                    });
        }
        return proof;
    }

    /** The same-host proof that {@code record}'s process is gone, if there is one. */
    static Optional<String> processProof(OwnerRecord record) {
        if (!record.isThisHost()) {
            return Optional.empty();
        }
        Optional<ProcessHandle> process = ProcessHandle.of(record.pid());
        if (process.isEmpty() || !process.get().isAlive()) {
            return Optional.of("its process " + record.pid() + " on this host is gone");
        }
        if (record.processStartMillis() < 0) {
            return Optional.empty();
        }
        Optional<Instant> started = process.get().info().startInstant();
        if (started.isPresent() && started.get().toEpochMilli() != record.processStartMillis()) {
            return Optional.of("pid " + record.pid() + " now belongs to a process started at " + started.get()
                    + ", not to the holder started at " + Instant.ofEpochMilli(record.processStartMillis()));
        }
        return Optional.empty();
    }
}
