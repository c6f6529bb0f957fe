package dev.lockcache.lock.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.Watcher;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link EnsembleFailoverTest} with every session in a JVM of its own ({@link FailoverHolderChild}), locking through
 * the public API ({@code FileLocks}, the in-JVM table, {@code LockHandle.onLost}): three QuorumPeerMain JVMs, one
 * holder and two waiters queued on the ensemble, the leader killed with SIGKILL. The sessions check each other
 * through marker files in a shared directory: none is granted the lock while another holds it and has not been told
 * it lost it; the tokens appended inside the critical section grow strictly, across the change of leader; the holder
 * keeps its lock or is told (always told with grace 0); every session gets the lock again afterwards.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class EnsembleFailoverJvmsTest {

    private static final int ROUNDS_AFTER_KILL = 5;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "suspended grace {0} ms")
    @ValueSource(longs = {0, 500})
    void leaderKilledWhileHoldersInSeparateJvmsHoldAndWait(long graceMillis) throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path lock = Files.createDirectories(dir.toRealPath().resolve("locks")).resolve("failover.lock");
        List<ChildJvm> sessions = new ArrayList<>();
        String killedHow;
        String released;
        try (TestEnsemble cluster = TestEnsemble.separateProcesses(dir.resolve("ensemble"))) {
            try {
                ChildJvm holder = session(cluster, graceMillis, lock, shared, "s0", "first");
                sessions.add(holder);
                holder.expect("HELD ");
                for (int i = 1; i <= 2; i++) {
                    ChildJvm waiter = session(cluster, graceMillis, lock, shared, "s" + i, "waiter");
                    sessions.add(waiter);
                    waiter.expect("WAITING");
                }
                awaitQueued(cluster.connectString(), new ZnodePaths("/failover-jvms", List.of()).lockNode(lock), 3);
                killedHow = cluster.killLeader();
                holder.send("go-on");
                released = holder.expect("RELEASED ");
                for (ChildJvm session : sessions) {
                    session.expect("DONE");
                    assertThat(session.awaitExit())
                            .as(session.transcript().toString())
                            .isZero();
                }
            } finally {
                for (ChildJvm session : sessions) {
                    session.close();
                }
            }
        }
        List<String> transcript = new ArrayList<>();
        sessions.forEach(s -> transcript.addAll(s.transcript()));
        assertThat(transcript)
                .as("two holders that both believed they held the lock, or a holder whose client never came back")
                .noneMatch(
                        line -> line.startsWith("VIOLATION") || line.startsWith("STUCK") || line.startsWith("ERROR"));
        List<Long> tokens = new ArrayList<>();
        for (String grant : Files.readAllLines(shared.resolve("grants"))) {
            tokens.add(Long.parseLong(grant.split(" ")[0]));
        }
        assertThat(tokens)
                .as("fencing tokens in grant order")
                .hasSize(1 + 3 * ROUNDS_AFTER_KILL)
                .isSorted()
                .doesNotHaveDuplicates();
        List<String> holder = sessions.get(0).transcript();
        boolean told = holder.stream()
                .takeWhile(line -> !line.startsWith("RELEASED "))
                .anyMatch(line -> line.startsWith("LOST "));
        assertThat(released)
                .as("the holder's release says what its listener was told")
                .isEqualTo(told ? "RELEASED lost" : "RELEASED kept");
        if (graceMillis == 0) {
            assertThat(told).as("holder told at the suspension").isTrue();
        }
        System.err.println("ensemble failover with holders in separate JVMs (" + killedHow + "), grace " + graceMillis
                + " ms: the holder " + (told ? "was told it lost its lock" : "kept its lock"));
    }

    private static ChildJvm session(
            TestEnsemble cluster, long graceMillis, Path lock, Path shared, String name, String role) throws Exception {
        return ChildJvm.start(
                FailoverHolderChild.class,
                cluster.connectString(),
                Long.toString(graceMillis),
                lock.toString(),
                shared.toString(),
                name,
                role,
                Integer.toString(ROUNDS_AFTER_KILL));
    }

    /** Waits, with a watch on the lock node's children, until {@code contenders} sessions are queued on it. */
    private static void awaitQueued(String connect, String lockNode, int contenders) throws Exception {
        try (CuratorFramework observer = CuratorFrameworkFactory.newClient(connect, new RetryOneTime(100))) {
            observer.start();
            assertThat(observer.blockUntilConnected(1, TimeUnit.MINUTES)).isTrue();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (true) {
                CountDownLatch changed = new CountDownLatch(1);
                List<String> children = observer.getChildren()
                        .usingWatcher((Watcher) event -> changed.countDown())
                        .forPath(lockNode);
                if (ZnodePaths.queue(children).size() >= contenders) {
                    return;
                }
                long left = deadline - System.nanoTime();
                assertThat(left > 0 && changed.await(left, TimeUnit.NANOSECONDS))
                        .as("only %s queued on %s", children, lockNode)
                        .isTrue();
            }
        }
    }
}
