/**
 * The {@code nio} lock provider: whole-file {@link java.nio.channels.FileChannel} locks, which are POSIX
 * {@code fcntl} record locks on Linux and macOS (coherent across NFS clients with a working lock manager) and
 * {@code LockFileEx} on Windows. Shared and exclusive, released by the kernel when the holder dies, handed to a
 * kernel-blocked waiter on release.
 *
 * <p>Every open of a lock file goes through lock-api's {@link dev.lockcache.lock.spi.FcntlChannels}, because
 * closing any descriptor of a file drops all {@code fcntl} locks this process holds on it. The owner record is
 * written into the lock file itself by exclusive holders; lock files are kept, never deleted.
 */
package dev.lockcache.lock.nio;
