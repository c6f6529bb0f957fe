package dev.lockcache.lock;

import java.time.Duration;

/** A point on a {@link Ticker}'s time line, or none at all for "wait forever". */
final class Deadline {
    private final Ticker ticker;
    private final long start;
    private final long deadline;
    private final boolean forever;

    private Deadline(Ticker ticker, long start, long deadline, boolean forever) {
        this.ticker = ticker;
        this.start = start;
        this.deadline = deadline;
        this.forever = forever;
    }

    static Deadline after(Ticker ticker, LockOptions options) {
        long now = ticker.read();
        if (options.waitsForever()) {
            return new Deadline(ticker, now, Long.MAX_VALUE, true);
        }
        long nanos = saturatedNanos(options.timeout());
        long end = now + nanos;
        if (((now ^ end) & (nanos ^ end)) < 0) { // overflow
            return new Deadline(ticker, now, Long.MAX_VALUE, true);
        }
        return new Deadline(ticker, now, end, false);
    }

    /** Nanoseconds left, {@code <= 0} once passed; {@link Long#MAX_VALUE} when waiting forever. */
    long remainingNanos() {
        return forever ? Long.MAX_VALUE : deadline - ticker.read();
    }

    boolean isForever() {
        return forever;
    }

    Duration elapsed() {
        return Duration.ofNanos(ticker.read() - start);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
