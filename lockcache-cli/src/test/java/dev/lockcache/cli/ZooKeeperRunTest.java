package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lockcache run --zookeeper HOST:PORT} and {@code fetch --zookeeper}: the lock lives on a (loopback)
 * ZooKeeper server, so two runs exclude each other there, and naming another provider beside it is refused.
 */
class ZooKeeperRunTest {
    private static TestingServer server;

    @TempDir
    Path dir;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void twoRunsExcludeEachOtherOnTheEnsembleAndTheSecondGoesOnceTheFirstEnds() throws Exception {
        Path lock = dir.resolve("job.lock");
        try (Cli holder = Cli.holder(dir, lock, "--zookeeper", server.getConnectString())) {
            Cli.Result busy =
                    Cli.run(dir, "run", "-n", "--zookeeper", server.getConnectString(), lock.toString(), "true");
            assertThat(busy.exit()).as(busy.toString()).isEqualTo(1);
            holder.send("done");
            assertThat(holder.awaitResult().exit()).isZero();
        }
        Cli.Result free = Cli.run(dir, "run", "-n", "--zookeeper", server.getConnectString(), lock.toString(), "true");
        assertThat(free.exit()).as(free.toString()).isZero();
    }

    @Test
    void anotherProviderBesideZookeeperIsABadUsage() throws Exception {
        Cli.Result both =
                Cli.run(dir, "run", "--zookeeper", server.getConnectString(), "--provider", "flock", "L", "true");
        assertThat(both.exit()).isEqualTo(64);
        assertThat(both.stderr()).contains("--zookeeper").contains("--provider flock");
    }
}
