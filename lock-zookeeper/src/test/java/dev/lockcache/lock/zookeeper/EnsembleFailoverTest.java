package dev.lockcache.lock.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A three-server ensemble (three QuorumPeerMain JVMs, leader killed with SIGKILL; and curator-test's in-process
 * cluster, leader shut down) whose leader is killed while one session holds a lock and two wait for it. Each
 * session is its own provider (its own client), so to the ensemble they are three processes; the in-JVM table
 * is bypassed on purpose (the provider is driven through the SPI) so that only ZooKeeper keeps them apart.
 *
 * <p>Checked at every grant: every other session still inside its critical section has been told it lost its
 * lock (never two holders that both believe they hold it); every release that throws {@link LockLostException}
 * belongs to a lock that was told; fencing tokens grow strictly in grant order, across the change of leader;
 * after the kill every session gets the lock again (liveness on the surviving quorum).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class EnsembleFailoverTest {

    private static final int SESSIONS = 3;
    private static final int ROUNDS_AFTER_KILL = 5;

    @TempDir
    Path dir;

    private final Object monitor = new Object();
    private final List<Worker> inside = new ArrayList<>(); // guarded by monitor
    private final List<Long> grantedTokens = new ArrayList<>(); // guarded by monitor
    private final List<String> violations = new ArrayList<>(); // guarded by monitor
    private final AtomicInteger toldLost = new AtomicInteger();
    private final AtomicInteger keptThroughKill = new AtomicInteger();
    private final AtomicInteger retriedErrors = new AtomicInteger();
    private String killedHow = "";

    /**
     * With a grace of 0 the holder must be told (every client is disconnected when the leader goes); with a short
     * grace it keeps its lock if it reconnects in time, else it is told.
     */
    @ParameterizedTest(name = "{0}, suspended grace {1} ms")
    @CsvSource({"processes, 0", "processes, 500", "in-process, 0", "in-process, 500"})
    void leaderKilledWhileLocksAreHeldAndWaitedFor(String kind, long graceMillis) throws Exception {
        try (TestEnsemble cluster = kind.equals("processes")
                ? TestEnsemble.separateProcesses(dir.resolve("ensemble"))
                : TestEnsemble.inProcess()) {
            ZooKeeperConfig config = ZooKeeperConfig.connectingTo(cluster.connectString())
                    .withRoot("/failover")
                    .withBases(List.of(dir))
                    .withSessionTimeout(Duration.ofSeconds(5))
                    .withConnectionTimeout(Duration.ofSeconds(3))
                    .withRetry(Duration.ofMillis(50), Duration.ofMillis(500), 20)
                    .withSuspendedGrace(Duration.ofMillis(graceMillis));
            Path lock = dir.resolve("shared").resolve("ensemble.lock");
            LockRequest request = new LockRequest(lock, LockMode.EXCLUSIVE, "failover");
            List<ZooKeeperLockProvider> providers = new ArrayList<>();
            List<Worker> workers = new ArrayList<>();
            CountDownLatch firstHeld = new CountDownLatch(1);
            CountDownLatch killed = new CountDownLatch(1);
            try {
                for (int i = 0; i < SESSIONS; i++) {
                    providers.add(new ZooKeeperLockProvider(config));
                }
                Worker first = new Worker("session-0", providers.get(0), request, firstHeld, killed);
                workers.add(first);
                first.start();
                assertThat(firstHeld.await(1, TimeUnit.MINUTES)).isTrue();
                for (int i = 1; i < SESSIONS; i++) {
                    Worker waiter = new Worker("session-" + i, providers.get(i), request, null, null);
                    workers.add(waiter);
                    waiter.start();
                }
                String lockNode = new ZnodePaths(config.root(), config.bases()).lockNode(lock);
                awaitQueued(cluster.connectString(), lockNode, workers);

                // the holder lives through the outage: it releases only once its client is back (or knows the
                // session is gone), as a real holder busy in its critical section would
                CountDownLatch holderBack = new CountDownLatch(1);
                providers
                        .get(0)
                        .session()
                        .client()
                        .getConnectionStateListenable()
                        .addListener((c, state) -> {
                            if (state == ConnectionState.RECONNECTED || state == ConnectionState.LOST) {
                                holderBack.countDown();
                            }
                        });
                first.resumeWhen(holderBack);
                killedHow = cluster.killLeader();
                killed.countDown();

                for (Worker worker : workers) {
                    worker.join(TimeUnit.MINUTES.toMillis(2));
                    assertThat(worker.isAlive())
                            .as(worker.getName() + " still running")
                            .isFalse();
                    assertThat(worker.failure).as(worker.getName() + " failed").isNull();
                    assertThat(worker.roundsAfterKill).isEqualTo(ROUNDS_AFTER_KILL);
                }
            } finally {
                for (Worker worker : workers) {
                    worker.interrupt();
                }
                for (ZooKeeperLockProvider provider : providers) {
                    provider.close();
                }
            }
        }
        synchronized (monitor) {
            assertThat(violations)
                    .as("two holders that both believed they held the lock")
                    .isEmpty();
            assertThat(grantedTokens)
                    .as("fencing tokens in grant order")
                    .isSorted()
                    .doesNotHaveDuplicates();
            assertThat(grantedTokens).hasSize(1 + SESSIONS * ROUNDS_AFTER_KILL);
        }
        assertThat(keptThroughKill.get() + toldLost.get()).isEqualTo(1);
        if (graceMillis == 0) {
            assertThat(toldLost).as("holder told at the suspension").hasValue(1);
        }
        System.err.println("ensemble failover (" + killedHow + "), grace " + graceMillis
                + " ms: the holder kept its lock "
                + keptThroughKill + " time(s), was told it"
                + " lost it " + toldLost + " time(s); " + retriedErrors + " operation(s) failed during the outage and"
                + " were retried");
    }

    /** Waits (yielding, never sleeping) until both waiters are queued behind the holder on the ensemble. */
    private static void awaitQueued(String connect, String lockNode, List<Worker> workers) throws Exception {
        try (CuratorFramework observer = CuratorFrameworkFactory.newClient(connect, new RetryOneTime(100))) {
            observer.start();
            assertThat(observer.blockUntilConnected(1, TimeUnit.MINUTES)).isTrue();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (true) {
                boolean waiting = workers.stream().skip(1).allMatch(w -> w.waiting);
                if (waiting
                        && ZnodePaths.queue(observer.getChildren().forPath(lockNode))
                                        .size()
                                == workers.size()) {
                    return;
                }
                assertThat(System.nanoTime()).as("waiters never queued").isLessThan(deadline);
                Thread.yield();
            }
        }
    }

    private void entered(Worker me) {
        synchronized (monitor) {
            for (Worker other : inside) {
                if (other.hold.lost().isEmpty()) {
                    violations.add(me.getName() + " was granted the lock while " + other.getName()
                            + " held it and had not been told it lost it");
                }
            }
            inside.add(me);
            grantedTokens.add(me.hold.fencingToken());
        }
    }

    private void left(Worker me) {
        synchronized (monitor) {
            inside.remove(me);
        }
    }

    /** One session: the first holds through the kill; each then takes the lock {@link #ROUNDS_AFTER_KILL} times. */
    private final class Worker extends Thread {
        private final ZooKeeperLockProvider provider;
        private final LockRequest request;
        private final CountDownLatch held;
        private final CountDownLatch killed;
        volatile CountDownLatch back;
        volatile boolean waiting;
        volatile Throwable failure;
        volatile int roundsAfterKill;
        HeldLock hold;

        Worker(
                String name,
                ZooKeeperLockProvider provider,
                LockRequest request,
                CountDownLatch held,
                CountDownLatch killed) {
            super(name);
            this.provider = provider;
            this.request = request;
            this.held = held;
            this.killed = killed;
        }

        void resumeWhen(CountDownLatch latch) {
            back = latch;
        }

        @Override
        public void run() {
            try {
                if (held != null) {
                    hold = acquire();
                    entered(this);
                    held.countDown();
                    killed.await();
                    assertThat(back.await(1, TimeUnit.MINUTES))
                            .as("holder's client came back")
                            .isTrue();
                    left(this);
                    finish(true);
                }
                for (int round = 0; round < ROUNDS_AFTER_KILL; round++) {
                    hold = acquire();
                    entered(this);
                    left(this);
                    finish(false);
                    roundsAfterKill++;
                }
            } catch (Throwable e) {
                failure = e;
            }
        }

        private HeldLock acquire() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (true) {
                try {
                    Optional<HeldLock> taken = provider.tryLock(request);
                    if (taken.isEmpty()) {
                        waiting = true;
                        taken = provider.awaitLock(request, 0, deadline - System.nanoTime());
                    }
                    if (taken.isPresent()) {
                        waiting = false;
                        return taken.get();
                    }
                } catch (IOException e) {
                    retriedErrors.incrementAndGet(); // the outage: try again until the deadline
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError(getName() + " did not get the lock within a minute");
                }
            }
        }

        private void finish(boolean throughKill) throws IOException {
            try {
                provider.release(hold);
                if (hold.lost().isPresent()) {
                    throw new AssertionError("release did not throw for a lock told lost");
                }
                if (throughKill) {
                    keptThroughKill.incrementAndGet();
                }
            } catch (LockLostException e) {
                assertThat(hold.lost())
                        .as("release threw for a lock that was never told")
                        .isPresent();
                toldLost.incrementAndGet();
            }
        }
    }
}
