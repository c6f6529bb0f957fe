/**
 * The caller's face of lockcache: locks on a path that exclude threads of this JVM and other processes.
 *
 * <p>Start with {@link dev.lockcache.lock.FileLocks}: pick a provider ({@link
 * dev.lockcache.lock.FileLocks#discover()} or {@link dev.lockcache.lock.FileLocks#using}), then {@code
 * acquire} a path with {@link dev.lockcache.lock.LockOptions} and close the returned {@link
 * dev.lockcache.lock.LockHandle} in a try-with-resources block. All failures are unchecked {@link
 * dev.lockcache.lock.LockException}s, except {@link java.lang.InterruptedException}. No method accepts or
 * returns {@code null}.
 */
package dev.lockcache.lock;
