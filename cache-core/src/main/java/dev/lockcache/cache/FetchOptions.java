package dev.lockcache.cache;

import dev.lockcache.lock.WaitListener;
import java.time.Duration;
import java.util.Optional;

/**
 * How one fetch behaves. Start from {@link DatasetCache#defaultOptions()} or {@link #of(FetchPolicy)}.
 *
 * @param policy when to go to the source
 * @param writableMirror whether the file at the requested path must be writable: then it is a private copy;
 *     otherwise it is a hard link to the read-only entry where the filesystem allows (a copy elsewhere)
 * @param progress hears the download's progress
 * @param lockTimeout how long to wait for another thread or process that is fetching the same key
 * @param waitListener hears, after 1 s and every 10 s, that this fetch still waits for the key's lock and who holds
 *     it (for a progress display while another worker downloads); empty for none
 */
public record FetchOptions(
        FetchPolicy policy,
        boolean writableMirror,
        ProgressListener progress,
        Duration lockTimeout,
        Optional<WaitListener> waitListener) {

    /** The default lock timeout: 30 minutes, long enough to wait for another process's large download. */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofMinutes(30);

    public FetchOptions {
        if (policy == null) {
            throw new IllegalArgumentException("fetch policy must not be null");
        }
        if (progress == null) {
            throw new IllegalArgumentException("progress listener must not be null; use ProgressListener.NONE");
        }
        if (lockTimeout == null || lockTimeout.isNegative()) {
            throw new IllegalArgumentException("lock timeout must be zero or positive, was " + lockTimeout);
        }
        if (waitListener == null) {
            throw new IllegalArgumentException("wait listener must not be null; use Optional.empty()");
        }
    }

    /** Options without a wait listener. */
    public FetchOptions(FetchPolicy policy, boolean writableMirror, ProgressListener progress, Duration lockTimeout) {
        this(policy, writableMirror, progress, lockTimeout, Optional.empty());
    }

    /** {@code policy}, a read-only mirror, no progress, the default lock timeout. */
    public static FetchOptions of(FetchPolicy policy) {
        return new FetchOptions(policy, false, ProgressListener.NONE, DEFAULT_LOCK_TIMEOUT);
    }

    public FetchOptions withPolicy(FetchPolicy newPolicy) {
        return new FetchOptions(newPolicy, writableMirror, progress, lockTimeout, waitListener);
    }

    /** The same options with a writable private copy at the requested path. */
    public FetchOptions withWritableMirror() {
        return new FetchOptions(policy, true, progress, lockTimeout, waitListener);
    }

    public FetchOptions withProgress(ProgressListener listener) {
        return new FetchOptions(policy, writableMirror, listener, lockTimeout, waitListener);
    }

    public FetchOptions withLockTimeout(Duration timeout) {
        return new FetchOptions(policy, writableMirror, progress, timeout, waitListener);
    }

    /** The same options, telling {@code listener} while this fetch waits for another holder of the key's lock. */
    public FetchOptions withWaitListener(WaitListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("wait listener must not be null");
        }
        return new FetchOptions(policy, writableMirror, progress, lockTimeout, Optional.of(listener));
    }
}
