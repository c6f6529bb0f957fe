/**
 * The {@code flock} provider ({@code flock(2)} through jnr-posix's native POSIX) and the {@code double}
 * provider (flock and an fcntl lock together, for interop with every other kind of locker on a path).
 *
 * <p>flock locks belong to an open file description: two descriptors opened separately exclude each other even
 * in one process, and closing one descriptor drops only its own lock. Kernel waits run on helper threads with
 * descriptors of their own, so timeouts and interrupts work although a thread blocked in native flock ignores
 * both. Every close of a lock-file descriptor goes through lock-api's {@link
 * dev.lockcache.lock.spi.FcntlChannels}, so it never drops an fcntl lock this JVM holds on the same file.
 */
package dev.lockcache.lock.flock;
