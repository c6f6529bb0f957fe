/**
 * Linux open-file-description locks ({@code fcntl(F_OFD_SETLK / F_OFD_SETLKW)}) as a lockcache provider named
 * {@code ofd}, called through JNA.
 *
 * <p>An OFD lock belongs to the open file description, like {@code flock(2)}: two descriptors opened
 * separately exclude each other even inside one process, and closing an unrelated descriptor of the same file
 * does not drop the lock (the trap of classic {@code fcntl} locks). Like classic {@code fcntl} locks they are
 * byte-range locks that NFS forwards to the server, so they exclude across hosts where NFS locking works, and
 * they conflict with classic {@code fcntl}/{@code lockf} locks (Java's {@code FileChannel.lock}, Python's
 * {@code fcntl.lockf}) on the same file, but not with {@code flock(2)} locks.
 *
 * <p>The provider is lock-api's {@link dev.lockcache.lock.spi.KernelLockProvider} over {@code OfdMechanism}
 * ({@code openat}, {@code statx}, {@code fcntl}, {@code pread}/{@code pwrite} through JNA): the base keeps lock
 * files open in a bounded cache, checks after each lock that the path still names the locked file, writes the
 * owner record into files it may write, and waits in the caller's thread, woken by the kernel.
 */
package dev.lockcache.lock.ofd;
