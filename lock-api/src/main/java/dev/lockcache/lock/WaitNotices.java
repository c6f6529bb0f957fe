package dev.lockcache.lock;

import java.time.Duration;

/**
 * When a waiting acquisition tells its {@link WaitListener}: first after {@code first}, then every {@code
 * every}. {@link #NONE} tells nobody.
 *
 * @param first the wait before the first notice; positive
 * @param every the pause between later notices; positive
 * @param listener who is told
 */
public record WaitNotices(Duration first, Duration every, WaitListener listener) {

    /** The default delay before the first notice: one second. */
    public static final Duration DEFAULT_FIRST = Duration.ofSeconds(1);

    /** The default pause between notices: ten seconds. */
    public static final Duration DEFAULT_EVERY = Duration.ofSeconds(10);

    /** No notices. */
    public static final WaitNotices NONE =
            new WaitNotices(Duration.ofSeconds(Long.MAX_VALUE), Duration.ofSeconds(Long.MAX_VALUE), (p, w, h) -> {});

    public WaitNotices {
        if (first == null || every == null || listener == null) {
            throw new IllegalArgumentException("wait notice delays and listener must not be null");
        }
        if (first.isNegative() || first.isZero() || every.isNegative() || every.isZero()) {
            throw new IllegalArgumentException("wait notice delays must be positive, were " + first + " and " + every);
        }
    }

    /** Whether anyone is told. */
    public boolean enabled() {
        return this != NONE;
    }
}
