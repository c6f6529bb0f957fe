/**
 * The {@code double} composite provider: two kernel mechanisms of other modules ({@code flock} and classic
 * {@code fcntl}) held together in a fixed order on lock-api's {@link dev.lockcache.lock.spi.KernelLockProvider}.
 * A composite, not a backend: the one module allowed to depend on two backends.
 */
package dev.lockcache.lock.composite;
