package dev.lockcache.lock.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockRequest;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Side by side with plain Curator {@code InterProcessMutex}, on one loopback server, in one run, blocks interleaved
 * so that machine load hits both alike: uncontended acquire+release (ours through {@link FileLocks}, so the in-JVM
 * table is included), and hand-off to a waiter of another session already queued (ours through the SPI, since
 * within one JVM the table would hand off without ZooKeeper). Prints medians and ratios; not part of the normal
 * build: {@code ./mvnw -o -pl lock-zookeeper test -Dtest=ZooKeeperBenchmark -Dlockcache.bench=true}.
 */
class ZooKeeperBenchmark {
    private static final int BLOCKS = 10;
    private static final int CYCLES_PER_BLOCK = 100;
    private static final int HANDOFFS_PER_BLOCK = 30;

    @TempDir
    Path dir;

    @Test
    void besideCuratorInterProcessMutex() throws Exception {
        assumeTrue(Boolean.getBoolean("lockcache.bench"), "benchmark: run with -Dlockcache.bench=true");
        ZooKeeperConfig config = TestZooKeeper.config("/bench");
        String connect = TestZooKeeper.server().getConnectString();
        try (ZooKeeperLockProvider ours = new ZooKeeperLockProvider(config);
                ZooKeeperLockProvider oursWaiter = new ZooKeeperLockProvider(config);
                CuratorFramework curator = CuratorFrameworkFactory.newClient(connect, new RetryOneTime(100));
                CuratorFramework curatorWaiter = CuratorFrameworkFactory.newClient(connect, new RetryOneTime(100))) {
            curator.start();
            curatorWaiter.start();
            curator.blockUntilConnected();
            curatorWaiter.blockUntilConnected();
            FileLocks locks = FileLocks.using(ours);
            Path lock = dir.resolve("bench.lock");
            InterProcessMutex mutex = new InterProcessMutex(curator, "/bench-curator/cycle");

            // warm-up of both, not measured
            cycleOurs(locks, lock, new long[300]);
            cycleCurator(mutex, new long[300]);

            long[] oursCycle = new long[BLOCKS * CYCLES_PER_BLOCK];
            long[] curatorCycle = new long[BLOCKS * CYCLES_PER_BLOCK];
            long[] oursHandoff = new long[BLOCKS * HANDOFFS_PER_BLOCK];
            long[] curatorHandoff = new long[BLOCKS * HANDOFFS_PER_BLOCK];
            handoffOurs(ours, oursWaiter, dir.resolve("handoff.lock"), new long[20]);
            handoffCurator(curator, curatorWaiter, new long[20]);
            for (int block = 0; block < BLOCKS; block++) {
                long[] a = new long[CYCLES_PER_BLOCK];
                long[] b = new long[CYCLES_PER_BLOCK];
                cycleOurs(locks, lock, a);
                cycleCurator(mutex, b);
                System.arraycopy(a, 0, oursCycle, block * CYCLES_PER_BLOCK, CYCLES_PER_BLOCK);
                System.arraycopy(b, 0, curatorCycle, block * CYCLES_PER_BLOCK, CYCLES_PER_BLOCK);
                long[] c = new long[HANDOFFS_PER_BLOCK];
                long[] d = new long[HANDOFFS_PER_BLOCK];
                handoffOurs(ours, oursWaiter, dir.resolve("handoff.lock"), c);
                handoffCurator(curator, curatorWaiter, d);
                System.arraycopy(c, 0, oursHandoff, block * HANDOFFS_PER_BLOCK, HANDOFFS_PER_BLOCK);
                System.arraycopy(d, 0, curatorHandoff, block * HANDOFFS_PER_BLOCK, HANDOFFS_PER_BLOCK);
            }
            report("uncontended acquire+release", oursCycle, curatorCycle);
            report("hand-off to a queued waiter", oursHandoff, curatorHandoff);
        }
    }

    private static void cycleOurs(FileLocks locks, Path lock, long[] out) throws InterruptedException {
        for (int i = 0; i < out.length; i++) {
            long start = System.nanoTime();
            try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive())) {
                // nothing inside
            }
            out[i] = System.nanoTime() - start;
        }
    }

    private static void cycleCurator(InterProcessMutex mutex, long[] out) throws Exception {
        for (int i = 0; i < out.length; i++) {
            long start = System.nanoTime();
            mutex.acquire();
            mutex.release();
            out[i] = System.nanoTime() - start;
        }
    }

    /** Holder session releases at t0; the waiter session, already queued on the ensemble, has the lock at t1. */
    private static void handoffOurs(ZooKeeperLockProvider holder, ZooKeeperLockProvider waiter, Path lock, long[] out)
            throws Exception {
        LockRequest request = new LockRequest(lock, LockMode.EXCLUSIVE, "bench");
        String lockNode = new ZnodePaths("/bench", java.util.List.of()).lockNode(lock);
        for (int i = 0; i < out.length; i++) {
            HeldLock held = holder.tryLock(request).orElseThrow();
            AtomicLong got = new AtomicLong();
            AtomicReference<HeldLock> taken = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            Thread thread = new Thread(() -> {
                try {
                    Optional<HeldLock> h = waiter.awaitLock(request, 0, Long.MAX_VALUE);
                    got.set(System.nanoTime());
                    taken.set(h.orElseThrow());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    done.countDown();
                }
            });
            thread.start();
            awaitContenders(holder.session().client(), lockNode, 2);
            long start = System.nanoTime();
            holder.release(held);
            assertThat(done.await(1, TimeUnit.MINUTES)).isTrue();
            out[i] = got.get() - start;
            waiter.release(taken.get());
        }
    }

    private static void handoffCurator(CuratorFramework holderClient, CuratorFramework waiterClient, long[] out)
            throws Exception {
        String path = "/bench-curator/handoff";
        InterProcessMutex holder = new InterProcessMutex(holderClient, path);
        InterProcessMutex waiter = new InterProcessMutex(waiterClient, path);
        for (int i = 0; i < out.length; i++) {
            holder.acquire();
            AtomicLong got = new AtomicLong();
            CountDownLatch done = new CountDownLatch(1);
            Thread thread = new Thread(() -> {
                try {
                    waiter.acquire();
                    got.set(System.nanoTime());
                    waiter.release();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    done.countDown();
                }
            });
            thread.start();
            while (holderClient.getChildren().forPath(path).size() < 2) {
                Thread.yield();
            }
            long start = System.nanoTime();
            holder.release();
            assertThat(done.await(1, TimeUnit.MINUTES)).isTrue();
            out[i] = got.get() - start;
        }
    }

    private static void awaitContenders(CuratorFramework client, String lockNode, int n) throws Exception {
        while (ZnodePaths.queue(client.getChildren().forPath(lockNode)).size() < n) {
            Thread.yield();
        }
    }

    private static void report(String what, long[] ours, long[] curator) {
        double oursP50 = percentile(ours, 50);
        double curatorP50 = percentile(curator, 50);
        double oursP99 = percentile(ours, 99);
        double curatorP99 = percentile(curator, 99);
        System.err.printf(
                "BENCH %s: lockcache zookeeper p50 %.0f us p99 %.0f us; Curator InterProcessMutex p50 %.0f us p99 %.0f"
                        + " us; ratio p50 %.2f, p99 %.2f (n=%d each)%n",
                what,
                oursP50 / 1000,
                oursP99 / 1000,
                curatorP50 / 1000,
                curatorP99 / 1000,
                oursP50 / curatorP50,
                oursP99 / curatorP99,
                ours.length);
    }

    private static double percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }
}
