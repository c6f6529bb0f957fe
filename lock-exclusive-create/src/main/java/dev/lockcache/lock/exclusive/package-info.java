/**
 * The {@code exclusive-create} lock provider: a lock is an owner record published atomically at the lock
 * path. The record is written completely to a temporary file beside the lock and then hard-linked to the lock
 * path, which fails if the path exists, so nobody ever sees a half-written record from a live holder; where
 * the filesystem has no hard links the provider falls back to create-exclusive and readers tolerate the short
 * empty window.
 *
 * <p>Because an exclusive-create lock outlives a crashed holder, the provider recovers stale locks, but only
 * with proof: a holder on this host whose process is gone (or whose pid now belongs to another process), or
 * a holder on any host whose heartbeat has not moved for a whole lease on the waiter's own monotonic clock.
 * Breaking is itself exclusive. Beside the lock the provider keeps a generation file (the fencing token) and,
 * briefly, a breaker guard; temporary files it leaves after a crash start with a dot and end in {@code .tmp}
 * or {@code .removing}.
 *
 * <p>Lock directories are often shared with other accounts, so every name is resolved relative to the lock's
 * directory opened once (a {@link java.nio.file.SecureDirectoryStream} on Linux), nothing is followed through
 * a symlink or opened unless it is a regular file this user may trust, files are created {@code 0600}, and
 * the stale-holder proof believes only records nobody else could have written.
 *
 * <p>{@link dev.lockcache.lock.exclusive.ExclusiveCreateLockProvider} is the only public type; everything
 * else here serves it.
 */
package dev.lockcache.lock.exclusive;
