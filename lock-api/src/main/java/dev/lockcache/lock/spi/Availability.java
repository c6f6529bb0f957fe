package dev.lockcache.lock.spi;

/**
 * Whether a provider can run in this JVM on this platform at all (native library present, right OS), with the
 * reason either way.
 */
public record Availability(boolean available, String reason) {

    public Availability {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("an availability needs a reason");
        }
    }

    public static Availability available(String reason) {
        return new Availability(true, reason);
    }

    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }
}
