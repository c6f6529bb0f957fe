package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.Ticker;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

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
 * <p>Observations are kept per path, for the most recently judged {@value #MAX_OBSERVED} paths; forgetting
 * one only delays a break, never causes one. Thread-safe.
 */
final class StaleHolderJudge {

    static final int MAX_OBSERVED = 1024;

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

    private record Observation(RecordSnapshot state, long firstSeenNanos) {}

    StaleHolderJudge(Duration lease, Ticker ticker) {
        this.lease = lease;
        this.ticker = ticker;
    }

    /** The proof that the holder seen in {@code current} at {@code path} is stale, if there is one. */
    Optional<String> proofOfStaleness(Path path, RecordSnapshot current) {
        Optional<String> processProof = current.record().flatMap(this::cachedProcessProof);
        return processProof.isPresent() ? processProof : leaseProof(path, current);
    }

    /** The proof that {@code current} has not changed for a lease, if it has not; starts observing otherwise. */
    Optional<String> leaseProof(Path path, RecordSnapshot current) {
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
