package dev.lockcache.lock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * A point on a {@link Ticker}'s time line, or none at all for "wait forever", and the schedule of the
 * acquisition's {@link WaitNotices} (and of the {@code dev.lockcache.LockWaiting} JFR event, on the default
 * schedule when the options name no listener and a recording enables the event). One per acquisition, used by
 * one thread at a time (the waiting thread, or for an asynchronous acquisition the thread serving it).
 */
final class Deadline {
    private final Ticker ticker;
    private final long start;
    private final long deadline;
    private final boolean forever;
    private final WaitNotices notices;
    private long nextNotice;

    private Deadline(Ticker ticker, long start, long deadline, boolean forever, WaitNotices notices) {
        this.ticker = ticker;
        this.start = start;
        this.deadline = deadline;
        this.forever = forever;
        this.notices = notices;
        this.nextNotice = notices.enabled() ? start + saturatedNanos(notices.first()) : Long.MAX_VALUE;
    }

    private static WaitNotices schedule(WaitNotices asked) {
        if (asked.enabled() || !LockEvents.waitingEnabled()) {
            return asked;
        }
        return new WaitNotices(WaitNotices.DEFAULT_FIRST, WaitNotices.DEFAULT_EVERY, (path, waited, holder) -> {});
    }

    static Deadline after(Ticker ticker, LockOptions options) {
        long now = ticker.read();
        if (options.waitsForever()) {
            return new Deadline(ticker, now, Long.MAX_VALUE, true, schedule(options.waitNotices()));
        }
        long nanos = saturatedNanos(options.timeout());
        long end = now + nanos;
        if (((now ^ end) & (nanos ^ end)) < 0) { // overflow
            return new Deadline(ticker, now, Long.MAX_VALUE, true, schedule(options.waitNotices()));
        }
        return new Deadline(ticker, now, end, false, schedule(options.waitNotices()));
    }

    /**
     * How long the waiter may block before it must come back: the time left, or less when a wait notice falls
     * due first. {@code <= 0} once the deadline passed.
     */
    synchronized long blockNanos() {
        long remaining = remainingNanos();
        if (nextNotice == Long.MAX_VALUE || remaining <= 0) {
            return remaining;
        }
        return Math.min(remaining, Math.max(1, nextNotice - ticker.read()));
    }

    /** Tells the listener (and JFR) if a notice is due, reading the holder only then. */
    synchronized void noticeIfDue(Path path, String provider, LockMode mode, Supplier<LockOwner> holder) {
        if (nextNotice == Long.MAX_VALUE) {
            return;
        }
        long now = ticker.read();
        if (now - nextNotice < 0) {
            return;
        }
        nextNotice = now + saturatedNanos(notices.every());
        if (nextNotice < now) {
            nextNotice = Long.MAX_VALUE;
        }
        LockOwner current = holder.get();
        LockEvents.waiting(path, provider, mode, now - start, current);
        notices.listener().stillWaiting(path, Duration.ofNanos(now - start), current);
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
