package dev.lockcache.lock;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Capped exponential backoff with full jitter, used between attempts of a polled lock.
 *
 * <p>Attempt {@code n} (from 0) pauses for a uniformly random time in {@code [0, min(max, initial *
 * 2^n)]}: the cap keeps a long wait responsive, the jitter keeps many waiters from polling in step.
 *
 * @param initial the ceiling of the first pause, positive
 * @param max the largest ceiling of any pause, at least {@code initial}
 */
public record Backoff(Duration initial, Duration max) {

    /** 100 µs doubling up to 50 ms: fast hand-off under light contention, about 40 polls a second at most. */
    public static final Backoff DEFAULT = new Backoff(Duration.ofNanos(100_000), Duration.ofMillis(50));

    public Backoff {
        requirePositive(initial, "initial");
        requirePositive(max, "max");
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff max " + max + " is smaller than initial " + initial);
        }
    }

    /** A backoff from {@code initial} doubling up to {@code max}. */
    public static Backoff of(Duration initial, Duration max) {
        return new Backoff(initial, max);
    }

    /** The ceiling of attempt {@code attempt}'s pause, in nanoseconds. */
    public long ceilingNanos(int attempt) {
        if (attempt < 0) {
            throw new IllegalArgumentException("attempt must be >= 0, was " + attempt);
        }
        long first = initial.toNanos();
        long cap = max.toNanos();
        int shift = Math.min(attempt, 62);
        long ceiling = first << shift;
        if (ceiling >>> shift != first || ceiling <= 0) {
            return cap; // overflowed
        }
        return Math.min(ceiling, cap);
    }

    /** A pause for attempt {@code attempt}: uniform in {@code [0, ceilingNanos(attempt)]}. */
    public long delayNanos(int attempt, RandomGenerator random) {
        return random.nextLong(ceilingNanos(attempt) + 1);
    }

    private static void requirePositive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("backoff " + what + " must be a positive duration, was " + d);
        }
    }
}
