package dev.lockcache.lock;

/**
 * A source of monotonic nanoseconds, injected so that deadlines and leases can be tested without waiting.
 * Only differences between two readings mean anything; the wall clock is never consulted.
 */
@FunctionalInterface
public interface Ticker {

    /** Nanoseconds from an arbitrary origin that never moves backwards. */
    long read();

    /** The JVM's monotonic clock, {@link System#nanoTime()}. */
    static Ticker system() {
        return System::nanoTime;
    }
}
