/**
 * The {@code nio} lock provider: whole-file {@link java.nio.channels.FileChannel} locks, which are POSIX
 * {@code fcntl} record locks on Linux and macOS (coherent across NFS clients with a working lock manager) and
 * {@code LockFileEx} on Windows. Shared and exclusive, released by the kernel when the holder dies, handed to a
 * kernel-blocked waiter on release.
 *
 * <p>The provider is lock-api's {@link dev.lockcache.lock.spi.KernelLockProvider} over {@link
 * dev.lockcache.lock.nio.FcntlMechanism}: the base keeps one open file per lock path and never opens and closes a
 * second descriptor beside it, because closing any descriptor of a file drops all {@code fcntl} locks this process
 * holds on it. The probe ({@code FcntlProbe}) needs a second process, since two channels of one process never
 * exclude each other. Lock files are kept, never deleted.
 */
package dev.lockcache.lock.nio;
