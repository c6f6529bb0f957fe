package dev.lockcache.lock;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * JDK Flight Recorder events for lock traffic. Locks can be taken millions of times a second, so an ordinary
 * recording keeps only what matters: {@code dev.lockcache.LockAcquired} (its duration is the wait) is recorded
 * for waits of 10 ms or more, and {@code dev.lockcache.LockReleased} (with the time held) only when a recording
 * enables it. Without a recording each costs a {@code shouldCommit} check.
 */
final class LockEvents {

    private LockEvents() {}

    @Name("dev.lockcache.LockAcquired")
    @Label("Lock Acquired")
    @Category("lockcache")
    @Description("A lock was granted; the duration is the time the caller waited")
    @StackTrace(false)
    @Threshold("10 ms")
    static final class Acquired extends Event {
        @Label("Path")
        String path;

        @Label("Provider")
        String provider;

        @Label("Mode")
        String mode;

        @Label("Fencing Token")
        long fencingToken;
    }

    @Name("dev.lockcache.LockReleased")
    @Label("Lock Released")
    @Category("lockcache")
    @Description("A handle was closed; held is how long it was held")
    @StackTrace(false)
    @Enabled(false)
    static final class Released extends Event {
        @Label("Path")
        String path;

        @Label("Provider")
        String provider;

        @Label("Mode")
        String mode;

        @Label("Held")
        @Timespan(Timespan.NANOSECONDS)
        long held;
    }
}
