package dev.lockcache.cache;

import java.time.Duration;

/**
 * Time limits of an HTTP download, measured on the monotonic clock. The JDK's request timeout ends when the
 * headers arrive and does not cover a stalled body (JDK-8208693), so the cache enforces all three itself.
 *
 * @param connect for the TCP (and TLS) connection
 * @param idle the longest time without a single byte, headers included
 * @param total the longest time for the whole download
 */
public record HttpTimeouts(Duration connect, Duration idle, Duration total) {

    /** 30 s to connect, 60 s without data, 6 hours in all. */
    public static final HttpTimeouts DEFAULT =
            new HttpTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofHours(6));

    public HttpTimeouts {
        positive(connect, "connect");
        positive(idle, "idle");
        positive(total, "total");
    }

    public static HttpTimeouts of(Duration connect, Duration idle, Duration total) {
        return new HttpTimeouts(connect, idle, total);
    }

    private static void positive(Duration d, String what) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException("HTTP " + what + " timeout must be a positive duration, was " + d);
        }
    }
}
