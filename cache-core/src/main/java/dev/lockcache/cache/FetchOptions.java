package dev.lockcache.cache;

import java.time.Duration;

/**
 * How one fetch behaves. Start from {@link DatasetCache#defaultOptions()} or {@link #of(FetchPolicy)}.
 *
 * @param policy when to go to the source
 * @param writableMirror whether the file at the requested path must be writable: then it is a private copy;
 *     otherwise it is a hard link to the read-only entry where the filesystem allows (a copy elsewhere)
 * @param progress hears the download's progress
 * @param lockTimeout how long to wait for another thread or process that is fetching the same key
 */
public record FetchOptions(
        FetchPolicy policy, boolean writableMirror, ProgressListener progress, Duration lockTimeout) {

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
    }

    /** {@code policy}, a read-only mirror, no progress, the default lock timeout. */
    public static FetchOptions of(FetchPolicy policy) {
        return new FetchOptions(policy, false, ProgressListener.NONE, DEFAULT_LOCK_TIMEOUT);
    }

    public FetchOptions withPolicy(FetchPolicy newPolicy) {
        return new FetchOptions(newPolicy, writableMirror, progress, lockTimeout);
    }

    /** The same options with a writable private copy at the requested path. */
    public FetchOptions withWritableMirror() {
        return new FetchOptions(policy, true, progress, lockTimeout);
    }

    public FetchOptions withProgress(ProgressListener listener) {
        return new FetchOptions(policy, writableMirror, listener, lockTimeout);
    }

    public FetchOptions withLockTimeout(Duration timeout) {
        return new FetchOptions(policy, writableMirror, progress, timeout);
    }
}
