/**
 * The {@code flock} provider: {@code flock(2)} through jnr-posix's native POSIX, on lock-api's {@link
 * dev.lockcache.lock.spi.KernelLockProvider}.
 *
 * <p>flock locks belong to an open file description: two descriptors opened separately exclude each other even
 * in one process, closing one descriptor drops only its own lock, and a child process that inherits the
 * descriptor keeps the lock alive. {@link dev.lockcache.lock.flock.FlockMechanism} is public so that the {@code
 * double} composite can hold it beside a classic fcntl lock.
 */
package dev.lockcache.lock.flock;
