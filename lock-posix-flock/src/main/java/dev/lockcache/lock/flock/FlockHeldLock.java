package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.FcntlChannels;
import dev.lockcache.lock.spi.HeldLock;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A lock held through a flock descriptor, and for the {@code double} provider also an fcntl lock through the
 * registered file of {@link FcntlChannels}.
 */
final class FlockHeldLock implements HeldLock {
    private final Path path;
    private final LockMode mode;
    private final long fencingToken;
    final NativeFlock.Descriptor descriptor;
    /** The token of the owner record this holder wrote; empty for shared holders, which write none. */
    final String recordToken;
    /** The fcntl half ({@code double} only). */
    final Optional<FcntlChannels.Lease> lease;

    final Optional<FileLock> fcntlLock;

    FlockHeldLock(
            Path path,
            LockMode mode,
            long fencingToken,
            NativeFlock.Descriptor descriptor,
            String recordToken,
            Optional<FcntlChannels.Lease> lease,
            Optional<FileLock> fcntlLock) {
        this.path = path;
        this.mode = mode;
        this.fencingToken = fencingToken;
        this.descriptor = descriptor;
        this.recordToken = recordToken;
        this.lease = lease;
        this.fcntlLock = fcntlLock;
    }

    @Override
    public Path path() {
        return path;
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
        return "flock" + (lease.isPresent() ? "+fcntl" : "") + " lock on " + path + " (" + mode + ", token "
                + fencingToken + ")";
    }
}
