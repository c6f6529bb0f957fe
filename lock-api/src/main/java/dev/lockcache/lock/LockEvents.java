package dev.lockcache.lock;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JDK Flight Recorder events for lock traffic, off unless a recording enables them ({@code
 * dev.lockcache.LockAcquired}, {@code dev.lockcache.LockReleased}). The event's own duration is the time spent
 * waiting (acquired) or holding (released).
 */
final class LockEvents {

    private LockEvents() {}

    @Name("dev.lockcache.LockAcquired")
    @Label("Lock Acquired")
    @Category("lockcache")
    @Description("A lock was granted; the duration is the time the caller waited")
    @StackTrace(false)
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
