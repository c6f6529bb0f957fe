/**
 * The provider author's face of lockcache: a {@link dev.lockcache.lock.spi.LockProvider} is one locking
 * mechanism (flock, fcntl through {@code FileChannel}, atomic create, ...). It says what it can do, proves on a
 * directory that it excludes there, and fills in the hooks the shared machinery calls: try once, optionally
 * wait the way the kernel or filesystem can wake it, and release.
 *
 * <p>Providers never see reentrancy, threads of the same JVM, timeouts or backoff: {@code dev.lockcache.lock}
 * handles those once for all of them, through one in-JVM table keyed by the lock file's real path. A provider
 * is found with {@link java.util.ServiceLoader} and must have a public no-argument constructor for that.
 */
package dev.lockcache.lock.spi;
