package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LossNotice;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One held exclusive-create lock: the published record's token, an open channel on the record's own file (not
 * its path), through which the heartbeat is written, and the lock's open {@link LockDirectory}, through which
 * the heartbeat checks that the lock path still names that file. Writing through the file rather than the
 * path means a holder that was broken while paused can never scribble on its successor's record; checking the
 * path on every beat means it is told at once ({@link #onLost}) when its record is gone or replaced.
 */
final class ExclusiveHold implements HeldLock {

    private static final Logger LOG = LoggerFactory.getLogger(ExclusiveHold.class);

    private final Path path;
    private final LockDirectory directory;
    private final String token;
    private final long generation;
    private final FileChannel record;
    private final Object fileKey;
    private final int heartbeatOffset;
    private final boolean forceWrites;
    private final Linking linking;
    private final LossNotice loss = new LossNotice();
    // Guarded by this.
    private long heartbeat;
    private boolean closed;
    private boolean warned;
    private ScheduledFuture<?> beating;

    ExclusiveHold(
            Path path,
            LockDirectory directory,
            String token,
            long generation,
            FileChannel record,
            Object fileKey,
            int heartbeatOffset,
            boolean forceWrites,
            Linking linking) {
        this.path = path;
        this.directory = directory;
        this.token = token;
        this.generation = generation;
        this.record = record;
        this.fileKey = fileKey;
        this.heartbeatOffset = heartbeatOffset;
        this.forceWrites = forceWrites;
        this.linking = linking;
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

    @Override
    public void onLost(Consumer<String> listener) {
        loss.subscribe(listener);
    }

    @Override
    public Optional<String> lost() {
        return loss.reason();
    }

    String token() {
        return token;
    }

    String name() {
        return path.getFileName().toString();
    }

    LockDirectory directory() {
        return directory;
    }

    Linking linking() {
        return linking;
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

    /** Bumps the heartbeat in place and checks the lock is still this holder's; called by the scheduler. Never throws. */
    void beat() {
        synchronized (this) {
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
                return;
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
        checkStillHeld();
    }

    /**
     * Tells the loss listeners if the lock path no longer names this holder's record (gone, or another file), or
     * the record no longer carries this holder's token. Never throws.
     */
    void checkStillHeld() {
        Optional<String> why;
        try {
            why = whyLost();
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot check lock {} is still held: {}", path, e.toString());
            return;
        }
        if (why.isPresent()) {
            synchronized (this) {
                if (beating != null) {
                    beating.cancel(false);
                }
            }
            LOG.warn("lost lock {}: {}", path, why.get());
            loss.lost(why.get());
        }
    }

    /**
     * Why this holder's record is no longer its own, checked now (also after the heartbeat stopped, while the
     * record is open): gone, replaced, or overwritten in place by another writer. Empty while it is intact or
     * cannot be read.
     */
    Optional<String> lostNow() {
        try {
            return whyLost();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private Optional<String> whyLost() throws IOException {
        Object now = directory.keyInDirectory(name());
        if (now == null) {
            return Optional.of("the lock file " + path + " is gone: a breaker judged this holder stale (no heartbeat"
                    + " seen for a lease, or its process looked dead) and removed the record");
        }
        if (!Objects.equals(now, fileKey)) {
            return Optional.of("the lock file " + path + " is another holder's record now: this holder's record was"
                    + " broken and the lock taken by someone else");
        }
        byte[] bytes;
        synchronized (this) {
            if (closed && !record.isOpen()) {
                return Optional.empty();
            }
            bytes = LockDirectory.readFully(record, OwnerRecord.MAX_BYTES + 1, path);
        }
        boolean ours = OwnerRecord.parse(bytes, bytes.length) instanceof dev.lockcache.lock.LockOwner.Known known
                && known.record().token().equals(token);
        return ours
                ? Optional.empty()
                : Optional.of("the record at " + path + " no longer carries this holder's token " + token);
    }

    /** Stops the heartbeat; idempotent. The channel stays open until {@link #closeRecord()}. */
    synchronized void stopBeating() {
        closed = true;
        if (beating != null) {
            beating.cancel(false);
        }
    }

    /**
     * Stops the heartbeat and closes the record's channel and the directory; idempotent. Until then the record's
     * file cannot be freed, so its identity cannot be reused by a newer record.
     */
    synchronized void closeRecord() throws IOException {
        stopBeating();
        try {
            record.close();
        } finally {
            directory.close();
        }
    }

    @Override
    public String toString() {
        return "ExclusiveHold[" + path + ", generation " + generation + "]";
    }
}
