package dev.lockcache.bench;

import java.time.Duration;

/**
 * How long each part of a run takes. {@code QUICK} fits in a few minutes on two shared cores and is good
 * for ratios; {@code FULL} gives tighter tails (more hand-off rounds, longer contention and waiting windows).
 */
enum Profile {
    QUICK(1, 2, 1, 2, 1, 2_000, 30, 1_500, Duration.ofSeconds(3), Duration.ofSeconds(5), 3 * 4096),
    FULL(2, 3, 2, 5, 2, 6_000, 200, 2_000, Duration.ofSeconds(10), Duration.ofSeconds(10), 3 * 4096);

    final int forks;
    final int warmupIterations;
    final int warmupSeconds;
    final int measurementIterations;
    final int measurementSeconds;
    /** Hand-off rounds for mechanisms the kernel wakes (and lockcache's providers). */
    final int handoffRounds;
    /** Hand-off rounds for the 100 ms-polling baselines, whose rounds take ~50 ms each. */
    final int polledHandoffRounds;
    /** Leading hand-off rounds left out of the statistics (class loading, JIT). */
    final int discardRounds;

    final Duration contention;
    final Duration blockedWindow;
    /**
     * Distinct lock files per pass of the memory figure: at least 10,000, and a multiple of 4096 so that
     * every bounded per-path cache of that size (FileLocks remembers 4096 resolved paths, then starts
     * over) ends both passes in the same state and its churn does not pass for growth.
     */
    final int memoryLocks;

    /** A blocked waiter's start-up settles this long before its CPU time is metered. */
    static final Duration BLOCKED_SETTLE = Duration.ofMillis(500);

    /** How long the holder keeps the lock once the waiter has announced itself (the hand-off workload). */
    static final long HOLD_NANOS = 2_000_000;

    /** Threads per JVM in the contention scenario. */
    static final int CONTENTION_THREADS = 2;

    Profile(
            int forks,
            int warmupIterations,
            int warmupSeconds,
            int measurementIterations,
            int measurementSeconds,
            int handoffRounds,
            int polledHandoffRounds,
            int discardRounds,
            Duration contention,
            Duration blockedWindow,
            int memoryLocks) {
        this.forks = forks;
        this.warmupIterations = warmupIterations;
        this.warmupSeconds = warmupSeconds;
        this.measurementIterations = measurementIterations;
        this.measurementSeconds = measurementSeconds;
        this.handoffRounds = handoffRounds;
        this.polledHandoffRounds = polledHandoffRounds;
        this.discardRounds = discardRounds;
        this.contention = contention;
        this.blockedWindow = blockedWindow;
        this.memoryLocks = memoryLocks;
    }

    static Profile parse(String name) {
        for (Profile p : values()) {
            if (p.name().equalsIgnoreCase(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown profile '" + name + "'; use quick or full");
    }
}
