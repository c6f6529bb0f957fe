package dev.lockcache.lock;

import java.time.Duration;

/**
 * What a caller asks of one acquisition: the mode, how long to wait, how to back off between polls, and a
 * label for the owner record.
 *
 * <p>The timeout is measured on a monotonic clock. {@link Duration#ZERO} means one attempt and no wait;
 * {@link #waitForever()} is the only way to wait without limit. A negative timeout is rejected.
 *
 * @param mode exclusive or shared
 * @param timeout how long to wait at most; {@link #FOREVER} for no limit
 * @param backoff pauses between polls, for mechanisms that poll
 * @param operation a short label that the owner record shows (what the holder is doing); may be empty
 * @param waitNotices who is told while the acquisition waits, and when; {@link WaitNotices#NONE} by default
 */
public record LockOptions(LockMode mode, Duration timeout, Backoff backoff, String operation, WaitNotices waitNotices) {

    /** The timeout meaning "no limit"; use {@link #waitForever()} rather than comparing. */
    public static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE, 999_999_999);

    /** The default timeout of {@link #exclusive()} and {@link #shared()}: one minute. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(1);

    /** The longest operation label kept; longer labels are cut. */
    public static final int MAX_OPERATION_LENGTH = 200;

    public LockOptions {
        if (mode == null) {
            throw new IllegalArgumentException("lock mode must not be null");
        }
        if (timeout == null) {
            throw new IllegalArgumentException(
                    "lock timeout must not be null; use LockOptions.FOREVER to wait without limit");
        }
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(
                    "lock timeout must not be negative, was " + timeout + "; use Duration.ZERO for a single attempt");
        }
        if (backoff == null) {
            throw new IllegalArgumentException("backoff must not be null; use Backoff.DEFAULT");
        }
        if (operation == null) {
            throw new IllegalArgumentException("operation label must not be null; use \"\"");
        }
        if (waitNotices == null) {
            throw new IllegalArgumentException("wait notices must not be null; use WaitNotices.NONE");
        }
        operation = sanitize(operation);
    }

    /** Options without wait notices. */
    public LockOptions(LockMode mode, Duration timeout, Backoff backoff, String operation) {
        this(mode, timeout, backoff, operation, WaitNotices.NONE);
    }

    /** Exclusive, waiting up to {@link #DEFAULT_TIMEOUT}. */
    public static LockOptions exclusive() {
        return new LockOptions(LockMode.EXCLUSIVE, DEFAULT_TIMEOUT, Backoff.DEFAULT, "");
    }

    /** Shared, waiting up to {@link #DEFAULT_TIMEOUT}. */
    public static LockOptions shared() {
        return new LockOptions(LockMode.SHARED, DEFAULT_TIMEOUT, Backoff.DEFAULT, "");
    }

    /** Exclusive, waiting up to {@code timeout}. */
    public static LockOptions exclusive(Duration timeout) {
        return exclusive().withTimeout(timeout);
    }

    /** Shared, waiting up to {@code timeout}. */
    public static LockOptions shared(Duration timeout) {
        return shared().withTimeout(timeout);
    }

    public LockOptions withMode(LockMode newMode) {
        return new LockOptions(newMode, timeout, backoff, operation, waitNotices);
    }

    public LockOptions withTimeout(Duration newTimeout) {
        return new LockOptions(mode, newTimeout, backoff, operation, waitNotices);
    }

    /** The same options with no time limit. */
    public LockOptions waitForever() {
        return withTimeout(FOREVER);
    }

    /** A single attempt: the lock is taken now or the acquisition fails at once. */
    public LockOptions tryOnce() {
        return withTimeout(Duration.ZERO);
    }

    public LockOptions withBackoff(Backoff newBackoff) {
        return new LockOptions(mode, timeout, newBackoff, operation, waitNotices);
    }

    public LockOptions withOperation(String newOperation) {
        return new LockOptions(mode, timeout, backoff, newOperation, waitNotices);
    }

    /**
     * The same options, telling {@code listener} how long the acquisition has waited and who holds the lock,
     * after {@link WaitNotices#DEFAULT_FIRST} and then every {@link WaitNotices#DEFAULT_EVERY}.
     */
    public LockOptions withWaitListener(WaitListener listener) {
        return withWaitNotices(new WaitNotices(WaitNotices.DEFAULT_FIRST, WaitNotices.DEFAULT_EVERY, listener));
    }

    /** The same options with {@code notices} while waiting. */
    public LockOptions withWaitNotices(WaitNotices notices) {
        return new LockOptions(mode, timeout, backoff, operation, notices);
    }

    /** Whether these options wait without limit. */
    public boolean waitsForever() {
        return timeout.equals(FOREVER);
    }

    private static String sanitize(String label) {
        String oneLine = OwnerRecord.replaceControls(label, ' ').strip();
        return oneLine.length() <= MAX_OPERATION_LENGTH ? oneLine : oneLine.substring(0, MAX_OPERATION_LENGTH);
    }
}
