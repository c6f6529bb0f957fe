package dev.lockcache.lock.nio;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.FcntlChannels;
import dev.lockcache.lock.spi.HeldLock;
import java.nio.channels.FileLock;
import java.nio.file.Path;

/** A FileChannel lock this JVM holds: the lease on the registered file, the lock, and what was written. */
final class NioHeldLock implements HeldLock {
    final FcntlChannels.Lease lease;
    final FileLock lock;
    private final LockMode mode;
    private final long fencingToken;
    /** The token of the owner record this holder wrote; empty for shared holders, which write none. */
    final String recordToken;

    NioHeldLock(FcntlChannels.Lease lease, FileLock lock, LockMode mode, long fencingToken, String recordToken) {
        this.lease = lease;
        this.lock = lock;
        this.mode = mode;
        this.fencingToken = fencingToken;
        this.recordToken = recordToken;
    }

    @Override
    public Path path() {
        return lease.path();
    }

    @Override
    public LockMode mode() {
        return mode;
    }

    @Override
    public long fencingToken() {
        return fencingToken;
    }

    @Override
    public String toString() {
        return "nio lock on " + path() + " (" + mode + ", token " + fencingToken + ")";
    }
}
