package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.HeldLock;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One held exclusive-create lock: the published record's token, and an open channel on the record's own
 * file (not its path), through which the heartbeat is written. Writing through the file rather than the path
 * means a holder that was broken while paused can never scribble on its successor's record.
 */
final class ExclusiveHold implements HeldLock {

    private static final Logger LOG = LoggerFactory.getLogger(ExclusiveHold.class);

    private final Path path;
    private final String token;
    private final long generation;
    private final FileChannel record;
    private final Object fileKey;
    private final int heartbeatOffset;
    private final boolean forceWrites;
    // Guarded by this.
    private long heartbeat;
    private boolean closed;
    private boolean warned;
    private ScheduledFuture<?> beating;

    ExclusiveHold(
            Path path,
            String token,
            long generation,
            FileChannel record,
            Object fileKey,
            int heartbeatOffset,
            boolean forceWrites) {
        this.path = path;
        this.token = token;
        this.generation = generation;
        this.record = record;
        this.fileKey = fileKey;
        this.heartbeatOffset = heartbeatOffset;
        this.forceWrites = forceWrites;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public LockMode mode() {
        return LockMode.EXCLUSIVE;
    }

    @Override
    public long fencingToken() {
        return generation;
    }

    String token() {
        return token;
    }

    /** The identity of the record's file, or {@code null} where the platform has none. */
    Object fileKey() {
        return fileKey;
    }

    synchronized void startBeating(ScheduledFuture<?> future) {
        if (closed) {
            future.cancel(false);
        } else {
            beating = future;
        }
    }

    /** Bumps the heartbeat in place; called by the scheduler. Never throws. */
    synchronized void beat() {
        if (closed) {
            return;
        }
        try {
            RecordPublisher.writeFully(record, OwnerRecord.Encoded.heartbeatDigits(heartbeat + 1), heartbeatOffset);
            if (forceWrites) {
                record.force(false);
            }
            heartbeat++;
        } catch (ClosedChannelException e) {
            closed = true;
        } catch (IOException e) {
            if (!warned) {
                warned = true;
                LOG.warn(
                        "cannot bump the heartbeat of lock {} ({}); waiters on other hosts may judge it stale"
                                + " after the lease",
                        path,
                        e.toString());
            }
        }
    }

    /** Stops the heartbeat; idempotent. The channel stays open until {@link #closeRecord()}. */
    synchronized void stopBeating() {
        closed = true;
        if (beating != null) {
            beating.cancel(false);
        }
    }

    /**
     * Stops the heartbeat and closes the record's channel; idempotent. Until then the record's file cannot be
     * freed, so its identity cannot be reused by a newer record.
     */
    synchronized void closeRecord() throws IOException {
        stopBeating();
        record.close();
    }

    @Override
    public String toString() {
        return "ExclusiveHold[" + path + ", generation " + generation + "]";
    }
}
