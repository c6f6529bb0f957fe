package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.LockRequest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;

/**
 * The read/write lock recipe on ephemeral-sequential nodes, written for the SPI rather than taken from
 * Curator's {@code InterProcessMutex}: a lock taken in one thread may be released from another (the in-JVM
 * table releases the shared lock with its last holder, whoever that is), each acquisition carries its own owner
 * record and fencing token, and a wait ends at the caller's deadline or interrupt leaving no node behind.
 *
 * <p>A contender creates {@code _c_<uuid>-write-N} or {@code _c_<uuid>-read-N} under the lock's znode (Curator's
 * protected create, so a create retried after a lost connection finds its first node instead of leaving an
 * orphan that would block everyone). A writer holds the lock when no node is ahead of it; a reader when no
 * writer is ahead of it. A waiter watches the one node it waits for (no herd), and wakes on its deletion or on
 * any change of the connection.
 */
final class LockRecipe {

    private final EnsembleSession session;
    private final ZnodePaths paths;
    private final String providerName;
    private final String connectString;

    LockRecipe(EnsembleSession session, ZnodePaths paths, String providerName, String connectString) {
        this.session = session;
        this.paths = paths;
        this.providerName = providerName;
        this.connectString = connectString;
    }

    /** One contender node, created for one attempt. */
    private record Attempt(
            LockRequest request, String lockNode, String node, String name, long czxid, long owner, long epoch) {}

    /** What the queue says about one contender. */
    private record Verdict(boolean present, String blocker) {
        boolean granted() {
            return present && blocker == null;
        }
    }

    /** One attempt without waiting; empty when another session holds the lock in a conflicting mode. */
    Optional<ZooKeeperHold> tryLock(LockRequest request) throws IOException {
        try {
            for (int round = 0; round < 3; round++) {
                Attempt attempt = enter(request);
                boolean granted = false;
                try {
                    Verdict verdict = judge(attempt);
                    if (!verdict.present()) {
                        continue; // our node went with an expired session: one more round on the new one
                    }
                    if (verdict.blocker() != null) {
                        return Optional.empty();
                    }
                    Optional<ZooKeeperHold> hold = grant(attempt);
                    granted = hold.isPresent();
                    if (granted) {
                        return hold;
                    }
                } finally {
                    if (!granted) {
                        abandon(attempt);
                    }
                }
            }
            throw new IOException("the connection to ZooKeeper at " + connectString
                    + " kept being suspended or expiring while locking " + request.path()
                    + "; try again once it is stable");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException wrapped = new InterruptedIOException("interrupted while locking " + request.path());
            wrapped.initCause(e);
            throw wrapped;
        }
    }

    /**
     * Queues for the lock and waits up to {@code remainingNanos} for the nodes ahead to go; empty (with our node
     * removed) when time runs out or the queue place was lost with the session.
     */
    Optional<ZooKeeperHold> awaitLock(LockRequest request, long remainingNanos)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        Attempt attempt = enter(request);
        boolean granted = false;
        try {
            while (true) {
                Verdict verdict = judge(attempt);
                if (!verdict.present()) {
                    return Optional.empty(); // our session ended: start over with a new node
                }
                if (verdict.blocker() == null) {
                    Optional<ZooKeeperHold> hold = grant(attempt);
                    granted = hold.isPresent();
                    return hold;
                }
                CountDownLatch woken = new CountDownLatch(1);
                Watcher watcher = event -> woken.countDown();
                Stat ahead = call(
                        "watch",
                        attempt.lockNode(),
                        () -> session.client()
                                .checkExists()
                                .usingWatcher(watcher)
                                .forPath(attempt.lockNode() + "/" + verdict.blocker()));
                if (ahead == null) {
                    continue; // went while we looked
                }
                long left = remainingNanos == Long.MAX_VALUE
                        ? Long.MAX_VALUE
                        : remainingNanos - (System.nanoTime() - start);
                if (left <= 0) {
                    return Optional.empty();
                }
                if (left == Long.MAX_VALUE) {
                    woken.await();
                } else if (!woken.await(left, TimeUnit.NANOSECONDS)) {
                    return Optional.empty();
                }
            }
        } finally {
            if (!granted) {
                abandon(attempt);
            }
        }
    }

    /**
     * Deletes the hold's node.
     *
     * @throws LockLostException if the lock was reported lost, or its node was already gone
     */
    void release(ZooKeeperHold hold) throws IOException {
        session.unregister(hold);
        boolean interrupted = Thread.interrupted();
        try {
            session.client().delete().guaranteed().forPath(hold.node());
        } catch (KeeperException.NoNodeException e) {
            hold.lose("its lock node " + hold.node() + " was gone at release (removed by someone else, or its"
                    + " session ended)");
        } catch (KeeperException.ConnectionLossException e) {
            // guaranteed: Curator deletes it in the background once connected, or the session ends
        } catch (IOException e) {
            if (hold.lost().isEmpty()) {
                throw e;
            }
        } catch (Exception e) {
            if (hold.lost().isEmpty()) {
                throw failure("release", hold.node(), e);
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        Optional<String> lost = hold.lost();
        if (lost.isPresent()) {
            throw new LockLostException(hold.path(), lost.get());
        }
    }

    /**
     * The owner record of the first contender in the queue (always a holder), with the generation it never
     * stored filled in from the node's creation zxid, its fencing token.
     */
    LockOwner readOwner(Path lockFile) {
        try {
            String lockNode = paths.lockNode(lockFile);
            CuratorFramework client = session.client();
            for (int round = 0; round < 3; round++) {
                List<ZnodePaths.Contender> queue;
                try {
                    queue = ZnodePaths.queue(client.getChildren().forPath(lockNode));
                } catch (KeeperException.NoNodeException e) {
                    return new LockOwner.Absent();
                }
                if (queue.isEmpty()) {
                    return new LockOwner.Absent();
                }
                Stat stat = new Stat();
                byte[] data;
                try {
                    data = client.getData()
                            .storingStatIn(stat)
                            .forPath(lockNode + "/" + queue.get(0).name());
                } catch (KeeperException.NoNodeException e) {
                    continue; // released while we looked
                }
                LockOwner owner = OwnerRecord.parse(data == null ? new byte[0] : data);
                if (owner instanceof LockOwner.Known known) {
                    return new LockOwner.Known(known.record().withGeneration(stat.getCzxid()));
                }
                return owner;
            }
            return new LockOwner.Absent();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new LockOwner.Unreadable("interrupted while reading the owner of " + lockFile + " from ZooKeeper");
        } catch (Exception e) {
            return new LockOwner.Unreadable("cannot read the owner of " + lockFile + " from ZooKeeper at "
                    + connectString + ": " + e.getMessage());
        }
    }

    /**
     * Proves on the ensemble that two contenders for one lock exclude each other: the second is queued behind the
     * first. Both nodes are removed again.
     */
    String proveExclusion(Path probeFile) throws IOException, InterruptedException {
        LockRequest request = new LockRequest(probeFile, LockMode.EXCLUSIVE, "probe");
        Attempt first = enter(request);
        try {
            Attempt second = enter(request);
            try {
                Verdict one = judge(first);
                Verdict two = judge(second);
                if (!one.granted() || two.granted()) {
                    throw new IOException("two contenders under " + first.lockNode() + " did not exclude each other ("
                            + one + ", " + two + ")");
                }
                return "two contenders under " + first.lockNode() + " on ZooKeeper at " + connectString
                        + " excluded each other";
            } finally {
                abandon(second);
            }
        } finally {
            abandon(first);
        }
    }

    private Attempt enter(LockRequest request) throws IOException, InterruptedException {
        String lockNode = paths.lockNode(request.path());
        long epoch = session.epoch();
        byte[] record = OwnerRecord.forThisProcess(providerName, request.mode(), 0, request.operation())
                .encode()
                .bytes();
        String prefix = lockNode + "/" + (request.mode() == LockMode.EXCLUSIVE ? ZnodePaths.WRITE : ZnodePaths.READ);
        Stat stat = new Stat();
        String node = call(
                "create a contender under",
                lockNode,
                () -> session.client()
                        .create()
                        .storingStatIn(stat)
                        .creatingParentContainersIfNeeded()
                        .withProtection()
                        .withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                        .forPath(prefix, record));
        Stat known = stat;
        if (known.getCzxid() == 0) { // a retried protected create found its node: no stat was filled in
            known = call("look at", node, () -> session.client().checkExists().forPath(node));
            if (known == null) {
                throw new IOException("contender " + node + " vanished right after it was created on ZooKeeper at "
                        + connectString + " (session expired?); try again");
            }
        }
        return new Attempt(
                request, lockNode, node, ZnodePaths.name(node), known.getCzxid(), known.getEphemeralOwner(), epoch);
    }

    private Verdict judge(Attempt attempt) throws IOException, InterruptedException {
        List<ZnodePaths.Contender> queue = ZnodePaths.queue(call(
                "list the contenders of",
                attempt.lockNode(),
                () -> session.client().getChildren().forPath(attempt.lockNode())));
        boolean write = attempt.request().mode() == LockMode.EXCLUSIVE;
        String blocker = null;
        for (ZnodePaths.Contender contender : queue) {
            if (contender.name().equals(attempt.name())) {
                return new Verdict(true, blocker);
            }
            if (write || contender.write()) {
                blocker = contender.name(); // the nearest conflicting node ahead of us
            }
        }
        return new Verdict(false, null);
    }

    private Optional<ZooKeeperHold> grant(Attempt attempt) {
        ZooKeeperHold hold = new ZooKeeperHold(
                attempt.request().path(), attempt.request().mode(), attempt.node(), attempt.czxid(), attempt.owner());
        return session.register(hold, attempt.epoch()) ? Optional.of(hold) : Optional.empty();
    }

    /** Removes an attempt's node, even from an interrupted thread; Curator finishes it if the connection is down. */
    private void abandon(Attempt attempt) {
        boolean interrupted = Thread.interrupted();
        try {
            session.client().delete().guaranteed().forPath(attempt.node());
        } catch (Exception e) {
            // NoNode: gone with its session. Anything else: the guaranteed delete goes on in the background.
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A Curator call. */
    private interface Call<T> {
        T run() throws Exception;
    }

    private <T> T call(String operation, String node, Call<T> call) throws IOException, InterruptedException {
        try {
            return call.run();
        } catch (InterruptedException | IOException e) {
            throw e;
        } catch (Exception e) {
            throw failure(operation, node, e);
        }
    }

    private IOException failure(String operation, String node, Exception e) {
        String hint = "";
        if (e instanceof KeeperException.NoAuthException) {
            hint = "; the node's ACL refuses this identity: check " + ZooKeeperConfig.DIGEST_PROPERTY + " and "
                    + ZooKeeperConfig.ACL_PROPERTY + " (every host of the fleet must use the same identity)";
        } else if (e instanceof KeeperException.ConnectionLossException
                || e instanceof KeeperException.SessionExpiredException) {
            hint = "; the ensemble did not answer in time: check that it is up and reachable";
        }
        return new IOException(
                "cannot " + operation + " " + node + " on ZooKeeper at " + connectString + ": " + e.getMessage() + hint,
                e);
    }
}
