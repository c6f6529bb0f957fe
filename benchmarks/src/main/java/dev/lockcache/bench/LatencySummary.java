package dev.lockcache.bench;

import java.util.Arrays;

/**
 * Order statistics of a set of latencies in nanoseconds, by the nearest-rank method: the p-th percentile is
 * the smallest sample such that at least p% of all samples are at most it. No interpolation, so every
 * reported figure is a latency that really happened.
 *
 * @param count number of samples
 * @param p50Nanos median
 * @param p99Nanos 99th percentile
 * @param maxNanos largest sample
 */
record LatencySummary(int count, long p50Nanos, long p99Nanos, long maxNanos) {

    LatencySummary {
        if (count <= 0) {
            throw new IllegalArgumentException("a latency summary needs at least one sample");
        }
    }

    /** Summarises {@code samples} (not modified). */
    static LatencySummary of(long[] samples) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("no latency samples to summarise");
        }
        long[] sorted = samples.clone();
        Arrays.sort(sorted);
        return new LatencySummary(
                sorted.length, percentile(sorted, 50), percentile(sorted, 99), sorted[sorted.length - 1]);
    }

    /** The nearest-rank {@code percent}-th percentile of ascending {@code sorted}, {@code 0 < percent <= 100}. */
    static long percentile(long[] sorted, double percent) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        if (!(percent > 0 && percent <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], was " + percent);
        }
        // percent * n first: exact for whole percents, where percent / 100.0 * n can land just above an integer
        int rank = (int) Math.ceil(percent * sorted.length / 100.0);
        return sorted[Math.max(rank, 1) - 1];
    }
}
