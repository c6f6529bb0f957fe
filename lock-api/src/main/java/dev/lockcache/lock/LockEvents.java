package dev.lockcache.lock;

import java.nio.file.Path;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * JDK Flight Recorder events for lock traffic. Locks can be taken millions of times a second, so an ordinary
 * recording keeps only what matters: {@code dev.lockcache.LockAcquired} (its duration is the wait) is recorded
 * for waits of 10 ms or more, and {@code dev.lockcache.LockReleased} (with the time held) only when a recording
 * enables it; {@code dev.lockcache.LockWaiting} on the schedule of {@link WaitNotices} (after 1 s, then every
 * 10 s, unless the options set another), with the holder's record; {@code dev.lockcache.StrategyVerdict} once per
 * mount the {@link LockStrategy} judges.
 *
 * <p>Until JFR is initialized (a recording started at launch or later) no event class is even loaded: loading
 * the first subclass of {@link Event} brings in about a hundred classes of JFR's own, a tenth of a second of a
 * short command's start-up. Callers therefore hold a started event as an {@code Object}, {@code null} when
 * nothing records; after that each costs a {@code shouldCommit} check.
 */
final class LockEvents {

    private LockEvents() {}

    /** Whether JFR is initialized, so that an event could be recorded; a static read. */
    static boolean recording() {
        return FlightRecorder.isInitialized();
    }

    /** A begun {@link Acquired} event, or {@code null} when nothing records. */
    static Object acquireBegun() {
        if (!recording()) {
            return null;
        }
        Acquired event = new Acquired();
        event.begin();
        return event;
    }

    /** Commits {@code begun} (from {@link #acquireBegun}) for a granted lock, if a recording wants it. */
    static void acquired(Object begun, Path path, String provider, LockMode mode, long fencingToken) {
        if (begun == null) {
            return;
        }
        Acquired event = (Acquired) begun;
        if (event.shouldCommit()) {
            event.path = path.toString();
            event.provider = provider;
            event.mode = mode.name();
            event.fencingToken = fencingToken;
            event.commit();
        }
    }

    /** A begun {@link Released} event, or {@code null} when nothing records. */
    static Object releaseBegun() {
        if (!recording()) {
            return null;
        }
        Released event = new Released();
        event.begin();
        return event;
    }

    /** Commits {@code begun} (from {@link #releaseBegun}) for a released lock, if a recording wants it. */
    static void released(Object begun, Path path, String provider, LockMode mode, long heldNanos) {
        if (begun == null) {
            return;
        }
        Released event = (Released) begun;
        if (event.shouldCommit()) {
            event.path = path.toString();
            event.provider = provider;
            event.mode = mode.name();
            event.held = heldNanos;
            event.commit();
        }
    }

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

    @Name("dev.lockcache.LockWaiting")
    @Label("Lock Still Waiting")
    @Category("lockcache")
    @Description("An acquisition is still waiting for a lock: how long so far, and the holder's record")
    @StackTrace(false)
    static final class Waiting extends Event {
        @Label("Path")
        String path;

        @Label("Provider")
        String provider;

        @Label("Mode")
        String mode;

        @Label("Waited")
        @Timespan(Timespan.NANOSECONDS)
        long waited;

        @Label("Holder")
        String holder;

        @Label("Holder Pid")
        long holderPid;

        @Label("Holder Host")
        String holderHost;
    }

    /** Whether a recording wants {@link Waiting} events now (so that a wait without a listener schedules them). */
    static boolean waitingEnabled() {
        return recording() && new Waiting().isEnabled();
    }

    static void waiting(Path path, String provider, LockMode mode, long waitedNanos, LockOwner holder) {
        if (!recording()) {
            return;
        }
        Waiting event = new Waiting();
        if (event.shouldCommit()) {
            event.path = path.toString();
            event.provider = provider;
            event.mode = mode.name();
            event.waited = waitedNanos;
            event.holder = holder.describe();
            event.holderPid = -1;
            event.holderHost = "";
            if (holder instanceof LockOwner.Known known) {
                event.holderPid = known.record().pid();
                event.holderHost = known.record().host();
            }
            event.commit();
        }
    }

    @Name("dev.lockcache.StrategyVerdict")
    @Label("Lock Strategy Verdict")
    @Category("lockcache")
    @Description("The lock provider chosen for a directory's mount, and why")
    @StackTrace(false)
    static final class Verdict extends Event {
        @Label("Directory")
        String directory;

        @Label("File System Type")
        String fileSystemType;

        @Label("Provider")
        String provider;

        @Label("Reason")
        String reason;
    }

    static void verdict(StrategyVerdict verdict) {
        if (!recording()) {
            return;
        }
        Verdict event = new Verdict();
        if (event.shouldCommit()) {
            event.directory = verdict.directory().toString();
            event.fileSystemType = verdict.fileSystemType();
            event.provider = verdict.providerName();
            event.reason = verdict.reason();
            event.commit();
        }
    }
}
