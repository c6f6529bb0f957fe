package dev.lockcache.lock.ofd;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.HeldLock;
import java.nio.file.Path;

/** An OFD lock held through {@code descriptor}, which nobody else uses until the lock is released. */
record OfdHeldLock(Descriptor descriptor, LockMode mode, long fencingToken) implements HeldLock {
    @Override
    public Path path() {
        return descriptor.path();
    }
}
