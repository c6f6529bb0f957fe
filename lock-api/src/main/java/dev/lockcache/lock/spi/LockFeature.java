package dev.lockcache.lock.spi;

/** What a lock mechanism can do, so that callers and strategies can choose without guessing. */
public enum LockFeature {
    /** Offers {@link dev.lockcache.lock.LockMode#SHARED}. Providers without it reject shared requests. */
    SHARED,
    /** Excludes other processes on this host. */
    CROSS_PROCESS,
    /** Can exclude processes on other hosts that see the same file (NFS with working locks, or a service). */
    CROSS_HOST,
    /** The kernel drops the lock when the holder dies; no stale-holder recovery is needed. */
    RELEASED_ON_CRASH,
    /** A waiter is woken by the kernel or filesystem when the holder releases, instead of polling. */
    BLOCKING_HANDOFF,
    /** Dead or silent holders are detected with proof and their locks broken. */
    STALE_RECOVERY
}
