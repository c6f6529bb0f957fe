package dev.lockcache.lock.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.Mechanism;
import dev.lockcache.lock.spi.ProbeResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZooKeeperLockProviderTest {

    @TempDir
    Path dir;

    @Test
    void discoveredByNameOptInAndInTheMechanismTable() {
        LockProvider installed = LockProviders.installed().get(ZooKeeperLockProvider.NAME);
        assertThat(installed).isInstanceOf(ZooKeeperLockProvider.class);
        assertThat(installed.optIn()).isTrue();
        assertThat(installed.mechanisms()).containsExactly(Mechanism.ZOOKEEPER);
    }

    @Test
    void availabilityTellsTheConnectionStateWithoutConnecting() throws Exception {
        try (ZooKeeperLockProvider provider = new ZooKeeperLockProvider(TestZooKeeper.config("/state"))) {
            assertThat(provider.availability().available()).isTrue();
            assertThat(provider.availability().reason())
                    .contains(TestZooKeeper.server().getConnectString())
                    .contains("not connected yet");
            provider.release(provider.tryLock(request(dir.resolve("a.lock"), LockMode.EXCLUSIVE))
                    .orElseThrow());
            assertThat(provider.availability().reason()).contains("connected (session 0x");
        }
    }

    @Test
    void hostsThatMountTheShareAtDifferentPathsExcludeEachOther() throws Exception {
        Path hostA = Files.createDirectories(dir.resolve("host-a").resolve("mnt"));
        Path hostB =
                Files.createDirectories(dir.resolve("host-b").resolve("srv").resolve("share"));
        ZooKeeperConfig base = TestZooKeeper.config("/mounts");
        try (ZooKeeperLockProvider a = new ZooKeeperLockProvider(base.withBases(List.of(hostA)));
                ZooKeeperLockProvider b = new ZooKeeperLockProvider(base.withBases(List.of(hostB)))) {
            Optional<HeldLock> held = a.tryLock(request(hostA.resolve(".locks/mnist.lock"), LockMode.EXCLUSIVE));
            assertThat(held).isPresent();
            assertThat(b.tryLock(request(hostB.resolve(".locks/mnist.lock"), LockMode.SHARED)))
                    .as("the same lock seen through another mount point")
                    .isEmpty();
            assertThat(b.tryLock(request(hostB.resolve(".locks/other.lock"), LockMode.EXCLUSIVE)))
                    .hasValueSatisfying(other -> release(b, other));
            a.release(held.get());
            assertThat(b.tryLock(request(hostB.resolve(".locks/mnist.lock"), LockMode.EXCLUSIVE)))
                    .hasValueSatisfying(h -> release(b, h));
        }
    }

    @Test
    void closingTheProviderEndsTheSessionAndTellsEveryHolder() throws Exception {
        ZooKeeperLockProvider provider = new ZooKeeperLockProvider(TestZooKeeper.config("/close"));
        FileLocks locks = FileLocks.using(provider);
        Path lock = dir.resolve("closed.lock");
        LockHandle handle = locks.acquire(lock, LockOptions.exclusive());
        AtomicReference<String> told = new AtomicReference<>();
        CountDownLatch tellings = new CountDownLatch(1);
        handle.onLost((h, reason) -> {
            told.set(reason);
            tellings.countDown();
        });
        provider.close();
        assertThat(tellings.await(1, TimeUnit.MINUTES)).isTrue();
        assertThat(told.get()).contains("closed");
        assertThat(handle.lost()).isPresent();
        assertThatThrownBy(handle::close).isInstanceOf(LockLostException.class).hasMessageContaining("closed.lock");
        assertThat(FileLocks.pathsInUse()).isZero();
        try (ZooKeeperLockProvider other = new ZooKeeperLockProvider(TestZooKeeper.config("/close"))) {
            assertThat(other.tryLock(request(lock, LockMode.EXCLUSIVE)))
                    .as("the closed session's lock is gone from the ensemble")
                    .hasValueSatisfying(h -> release(other, h));
        }
    }

    @Test
    void exclusiveFencingTokensGrowAcrossSessionsAndSharedHoldersCoexist() throws Exception {
        ZooKeeperConfig config = TestZooKeeper.config("/tokens");
        Path lock = dir.resolve("t.lock");
        try (ZooKeeperLockProvider a = new ZooKeeperLockProvider(config);
                ZooKeeperLockProvider b = new ZooKeeperLockProvider(config)) {
            long last = 0;
            for (int i = 0; i < 6; i++) {
                ZooKeeperLockProvider p = i % 2 == 0 ? a : b;
                HeldLock held = p.tryLock(request(lock, LockMode.EXCLUSIVE)).orElseThrow();
                assertThat(held.fencingToken()).isGreaterThan(last);
                last = held.fencingToken();
                p.release(held);
            }
            HeldLock readerA = a.tryLock(request(lock, LockMode.SHARED)).orElseThrow();
            HeldLock readerB = b.tryLock(request(lock, LockMode.SHARED)).orElseThrow();
            assertThat(a.tryLock(request(lock, LockMode.EXCLUSIVE))).isEmpty();
            a.release(readerA);
            assertThat(a.tryLock(request(lock, LockMode.EXCLUSIVE))).isEmpty();
            b.release(readerB);
            a.tryLock(request(lock, LockMode.EXCLUSIVE)).ifPresentOrElse(h -> release(a, h), () -> {
                throw new AssertionError("free after both readers left");
            });
        }
    }

    @Test
    void hostsProbingOneDirectoryAtOnceAllSeeExclusion() throws Exception {
        ZooKeeperConfig config = TestZooKeeper.config("/probes");
        try (ZooKeeperLockProvider a = new ZooKeeperLockProvider(config);
                ZooKeeperLockProvider b = new ZooKeeperLockProvider(config)) {
            // a holder on the name the probe once shared by all: the cache's first probe failed behind it
            Optional<HeldLock> held = a.tryLock(request(dir.resolve(".lockcache-zookeeper-probe"), LockMode.EXCLUSIVE));
            assertThat(held).isPresent();
            ProbeResult behindAHolder = b.probe(dir);
            assertThat(behindAHolder.verdict()).isEqualTo(ProbeResult.Verdict.EXCLUDES);
            assertThat(behindAHolder.reason())
                    .as("the proof and the connection it made")
                    .contains("excluded each other")
                    .contains("connected (session 0x");
            a.release(held.get());

            int threads = 4;
            int rounds = 10;
            CyclicBarrier together = new CyclicBarrier(threads);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<List<String>>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    ZooKeeperLockProvider host = t % 2 == 0 ? a : b;
                    results.add(pool.submit(() -> {
                        List<String> failures = new ArrayList<>();
                        for (int r = 0; r < rounds; r++) {
                            together.await(1, TimeUnit.MINUTES);
                            ProbeResult probe = host.probe(dir);
                            if (probe.verdict() != ProbeResult.Verdict.EXCLUDES) {
                                failures.add(probe.verdict() + ": " + probe.reason());
                            }
                        }
                        return failures;
                    }));
                }
                for (Future<List<String>> result : results) {
                    assertThat(result.get(2, TimeUnit.MINUTES))
                            .as("probes run at the same moment")
                            .isEmpty();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aLockNodeRemovedByHandIsReportedLostAtRelease() throws Exception {
        try (ZooKeeperLockProvider provider = new ZooKeeperLockProvider(TestZooKeeper.config("/byhand"))) {
            HeldLock held = provider.tryLock(request(dir.resolve("h.lock"), LockMode.EXCLUSIVE))
                    .orElseThrow();
            provider.session().client().delete().forPath(((ZooKeeperHold) held).node());
            assertThatThrownBy(() -> provider.release(held))
                    .isInstanceOf(LockLostException.class)
                    .hasMessageContaining("gone at release");
        }
    }

    @Test
    void anUnreachableEnsembleFailsClearlyAndTheProbeSaysUnavailable() throws Exception {
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        ZooKeeperConfig config = ZooKeeperConfig.connectingTo("127.0.0.1:" + closedPort)
                .withConnectionTimeout(java.time.Duration.ofMillis(500))
                .withSessionTimeout(java.time.Duration.ofSeconds(2));
        try (ZooKeeperLockProvider provider = new ZooKeeperLockProvider(config)) {
            assertThat(provider.probe(dir).verdict()).isEqualTo(dev.lockcache.lock.spi.ProbeResult.Verdict.UNAVAILABLE);
            assertThatThrownBy(() -> FileLocks.using(provider).acquire(dir.resolve("u.lock"), LockOptions.exclusive()))
                    .isInstanceOf(dev.lockcache.lock.LockIOException.class)
                    .hasStackTraceContaining("cannot reach ZooKeeper at 127.0.0.1:" + closedPort)
                    .hasStackTraceContaining(ZooKeeperConfig.CONNECT_PROPERTY);
        }
    }

    private static LockRequest request(Path path, LockMode mode) {
        return new LockRequest(path, mode, "provider test");
    }

    private static void release(LockProvider provider, HeldLock held) {
        try {
            provider.release(held);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
