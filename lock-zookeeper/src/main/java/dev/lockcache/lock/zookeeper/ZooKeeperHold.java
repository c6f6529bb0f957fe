package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LossNotice;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One lock held on the ensemble: the ephemeral-sequential node that carries it, the session that created it,
 * and its loss signal. The fencing token is the node's creation zxid: zxids grow across the whole ensemble
 * (the epoch of each new leader is in their high bits), and a contender is granted the lock only after every
 * node ahead of it in the queue is gone, so every later exclusive acquisition of the lock has a larger one.
 */
final class ZooKeeperHold implements HeldLock {
    private final Path path;
    private final LockMode mode;
    private final String node;
    private final long czxid;
    private final long sessionId;
    private final LossNotice loss = new LossNotice();

    ZooKeeperHold(Path path, LockMode mode, String node, long czxid, long sessionId) {
        this.path = path;
        this.mode = mode;
        this.node = node;
        this.czxid = czxid;
        this.sessionId = sessionId;
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
        return czxid;
    }

    @Override
    public void onLost(Consumer<String> listener) {
        loss.subscribe(listener);
    }

    @Override
    public Optional<String> lost() {
        return loss.reason();
    }

    /** Reports the loss (once; later calls are ignored). */
    void lose(String why) {
        loss.lost(why);
    }

    /** The znode that carries the lock. */
    String node() {
        return node;
    }

    /** The session that created {@link #node()}. */
    long sessionId() {
        return sessionId;
    }

    @Override
    public String toString() {
        return "ZooKeeperHold[" + path + ", " + mode + ", " + node + ", zxid 0x" + Long.toHexString(czxid) + "]";
    }
}
