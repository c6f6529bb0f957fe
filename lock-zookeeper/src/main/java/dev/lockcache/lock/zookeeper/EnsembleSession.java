package dev.lockcache.lock.zookeeper;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider's one Curator client (built on first use, so that discovering the provider costs nothing) and
 * the race it owns: telling every held lock, once, that it may have been lost.
 *
 * <p>A lock is reported lost when the session is {@code LOST}, when the connection has been {@code SUSPENDED}
 * for longer than the configured grace (at once with the default grace of zero), when after a reconnection its
 * node is gone or belongs to another session, and when the provider is closed. Each of these bumps the loss
 * epoch; an acquisition that started before a bump does not register its lock (the caller retries with a fresh
 * node), so no lock slips between a loss and its notice.
 *
 * <p>Lifecycle: the client is built on first use and closed by {@link #close}. While it is open, a JVM shutdown
 * hook closes it too, so a JVM that exits without closing its provider (the JVM-wide instances of {@code
 * LockProviders.installed()} are never closed by their users, a CLI command ends with {@code System.exit}) ends its
 * session at once: its locks are free for other hosts now, not after the session timeout. A JVM killed with
 * SIGKILL, or frozen, still keeps its locks until the session expires.
 */
final class EnsembleSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EnsembleSession.class);

    private final ZooKeeperConfig config;
    private final Set<ZooKeeperHold> holds = ConcurrentHashMap.newKeySet();
    private final Object guard = new Object();
    private CuratorFramework client; // guarded by guard
    private boolean closed; // guarded by guard
    private boolean everConnected; // guarded by guard
    private long lossEpoch; // guarded by guard
    private long suspensions; // guarded by guard
    private ScheduledExecutorService graceTimer; // guarded by guard
    private Thread exitHook; // guarded by guard
    private volatile String state = "not connected yet (connects on first use)";

    EnsembleSession(ZooKeeperConfig config) {
        this.config = config;
    }

    /**
     * The started client; the first call connects and waits for the connection up to the connection timeout.
     *
     * @throws IOException if the provider is closed or the ensemble cannot be reached
     */
    CuratorFramework client() throws IOException {
        CuratorFramework c;
        synchronized (guard) {
            if (closed) {
                throw new IOException("the zookeeper lock provider was closed");
            }
            if (client == null) {
                client = build();
                client.getConnectionStateListenable().addListener(this::stateChanged);
                state = "connecting";
                client.start();
                exitHook = new Thread(this::close, "lockcache-zookeeper-exit");
                try {
                    Runtime.getRuntime().addShutdownHook(exitHook);
                } catch (IllegalStateException exiting) {
                    exitHook = null; // the JVM is already exiting: nothing is left to close it later
                }
            }
            c = client;
            if (everConnected) {
                return c;
            }
        }
        boolean connected;
        try {
            connected = c.blockUntilConnected((int) config.connectionTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while connecting to ZooKeeper at " + config.connectString());
        }
        if (!connected) {
            throw new IOException("cannot reach ZooKeeper at " + config.connectString() + " within "
                    + config.connectionTimeout() + "; check " + ZooKeeperConfig.CONNECT_PROPERTY + " / "
                    + ZooKeeperConfig.CONNECT_ENV + " and that the ensemble is up");
        }
        synchronized (guard) {
            everConnected = true;
        }
        return c;
    }

    private CuratorFramework build() {
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(config.connectString())
                .sessionTimeoutMs((int) config.sessionTimeout().toMillis())
                .connectionTimeoutMs((int) config.connectionTimeout().toMillis())
                .retryPolicy(new BoundedExponentialBackoffRetry(
                        (int) Math.min(
                                Integer.MAX_VALUE, config.retryBaseSleep().toMillis()),
                        (int) Math.min(Integer.MAX_VALUE, config.retryMaxSleep().toMillis()),
                        config.retryMaxRetries()));
        config.digest().ifPresent(d -> builder.authorization("digest", d.getBytes(StandardCharsets.UTF_8)));
        if (config.acl() == ZooKeeperConfig.Acl.CREATOR) {
            builder.aclProvider(new ACLProvider() {
                @Override
                public List<ACL> getDefaultAcl() {
                    return ZooDefs.Ids.CREATOR_ALL_ACL;
                }

                @Override
                public List<ACL> getAclForPath(String path) {
                    return ZooDefs.Ids.CREATOR_ALL_ACL;
                }
            });
        }
        return builder.build();
    }

    /** The current loss epoch: compare it with {@link #register}'s to see whether a loss came in between. */
    long epoch() {
        synchronized (guard) {
            return lossEpoch;
        }
    }

    /** Records {@code hold} as held, unless a loss was reported since {@code epoch}; then returns false. */
    boolean register(ZooKeeperHold hold, long epoch) {
        synchronized (guard) {
            if (epoch != lossEpoch || closed) {
                return false;
            }
            holds.add(hold);
            return true;
        }
    }

    void unregister(ZooKeeperHold hold) {
        holds.remove(hold);
    }

    /** One line on the connection, for {@code providers} and messages. */
    String describe() {
        return "ZooKeeper at " + config.connectString() + ", " + state;
    }

    /** The connection state alone: {@code connected (session 0x...) since ...}, {@code suspended since ...}... */
    String state() {
        return state;
    }

    private void stateChanged(CuratorFramework c, ConnectionState newState) {
        String since = " since " + Instant.now();
        long suspension;
        synchronized (guard) {
            if (closed) {
                return;
            }
            suspension = ++suspensions;
        }
        switch (newState) {
            case CONNECTED, RECONNECTED -> {
                state = "connected (session 0x" + Long.toHexString(sessionId(c)) + ")" + since;
                if (newState == ConnectionState.RECONNECTED) {
                    verifyHolds(c);
                }
            }
            case SUSPENDED -> {
                state = "suspended" + since;
                if (config.suspendedGrace().isZero()) {
                    loseAll("the connection to ZooKeeper at " + config.connectString()
                            + " was suspended, so the session may expire at any moment (suspended grace is 0)");
                } else {
                    timer().schedule(
                                    () -> loseIfStillSuspended(suspension),
                                    config.suspendedGrace().toNanos(),
                                    TimeUnit.NANOSECONDS);
                }
            }
            case LOST -> {
                state = "session lost" + since;
                loseAll("the ZooKeeper session was lost (expired, or not confirmed within the session timeout "
                        + config.sessionTimeout() + ")");
            }
            case READ_ONLY -> {
                state = "read-only" + since;
                loseAll("the ZooKeeper server at " + config.connectString() + " went read-only");
            }
        }
        LOG.debug("zookeeper connection state {}: {}", newState.name().toLowerCase(Locale.ROOT), state);
    }

    private void loseIfStillSuspended(long suspension) {
        synchronized (guard) {
            if (suspensions != suspension || closed) {
                return; // reconnected (or lost) meanwhile
            }
        }
        loseAll("the connection to ZooKeeper at " + config.connectString() + " stayed suspended longer than the grace "
                + config.suspendedGrace());
    }

    /** After a reconnection the session may be the same, but each node is checked: still there, still ours. */
    private void verifyHolds(CuratorFramework c) {
        long session = sessionId(c);
        for (ZooKeeperHold hold : List.copyOf(holds)) {
            if (hold.lost().isPresent()) {
                continue;
            }
            if (hold.sessionId() != session) {
                lose(hold, "the ZooKeeper session changed while the connection was suspended");
                continue;
            }
            try {
                Stat stat = c.checkExists().forPath(hold.node());
                if (stat == null || stat.getEphemeralOwner() != session) {
                    lose(hold, "its lock node " + hold.node() + " was gone after a reconnection");
                }
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                    return;
                }
                lose(hold, "its lock node could not be checked after a reconnection: " + e);
            }
        }
    }

    private void lose(ZooKeeperHold hold, String why) {
        synchronized (guard) {
            lossEpoch++;
        }
        hold.lose(why);
    }

    /** Tells every held lock it is lost; acquisitions under way will not register theirs. */
    void loseAll(String why) {
        List<ZooKeeperHold> told;
        synchronized (guard) {
            lossEpoch++;
            told = new ArrayList<>(holds);
        }
        for (ZooKeeperHold hold : told) {
            hold.lose(why);
        }
        if (!told.isEmpty()) {
            LOG.warn("{} zookeeper lock(s) reported lost: {}", told.size(), why);
        }
    }

    private ScheduledExecutorService timer() {
        synchronized (guard) {
            if (graceTimer == null) {
                ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
                    Thread t = new Thread(r, "lockcache-zookeeper-grace");
                    t.setDaemon(true);
                    return t;
                });
                timer.setRemoveOnCancelPolicy(true);
                graceTimer = timer;
            }
            return graceTimer;
        }
    }

    private static long sessionId(CuratorFramework c) {
        try {
            return c.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
    }

    /** The session id the client has now (0 when it has none); for tests. */
    long currentSessionId() throws IOException {
        return sessionId(client());
    }

    @Override
    public void close() {
        CuratorFramework c;
        ScheduledExecutorService timer;
        Thread hook;
        synchronized (guard) {
            if (closed) {
                return;
            }
            closed = true;
            c = client;
            client = null;
            timer = graceTimer;
            graceTimer = null;
            hook = exitHook;
            exitHook = null;
            state = "closed";
            lossEpoch++;
        }
        if (hook != null && hook != Thread.currentThread()) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException exiting) {
                // the JVM is exiting and the hook runs (or ran) anyway; it finds the session closed
            }
        }
        for (ZooKeeperHold hold : List.copyOf(holds)) {
            hold.lose("the zookeeper lock provider was closed, which ended its session");
        }
        if (c != null) {
            c.close();
        }
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
