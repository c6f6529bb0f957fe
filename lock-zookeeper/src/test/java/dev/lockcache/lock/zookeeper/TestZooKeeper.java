package dev.lockcache.lock.zookeeper;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * One standalone ZooKeeper server for the whole test JVM (loopback, random port), with a short tick so that
 * sessions may be as short as 2 ticks. The first use also writes the configuration file that surefire names in
 * {@code LOCKCACHE_ZOOKEEPER_CONFIG}, so that child JVMs started by the kit (which find the provider by name)
 * reach the same server.
 */
final class TestZooKeeper {
    /** The servers' tick: sessions from 2 to 20 ticks. */
    static final int TICK_MS = 250;

    /** The root the kit's child JVMs use (through the configuration file). */
    static final String KIT_ROOT = "/lockcache-kit";

    private static TestingServer server;

    private TestZooKeeper() {}

    /** The shared server, started on first use and closed when the JVM exits. */
    static synchronized TestingServer server() {
        if (server == null) {
            try {
                TestingServer started = new TestingServer(spec(0), true);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        started.close();
                    } catch (IOException ignored) {
                        // exiting anyway
                    }
                }));
                server = started;
                writeChildConfig(started.getConnectString());
            } catch (Exception e) {
                throw new IllegalStateException("cannot start a test ZooKeeper server", e);
            }
        }
        return server;
    }

    /** A server spec on a random loopback port with our tick. */
    static InstanceSpec spec(int serverId) {
        return new InstanceSpec(null, -1, -1, -1, true, serverId, TICK_MS, -1);
    }

    /** Specs for an ensemble of {@code n} servers with our tick. */
    static List<InstanceSpec> ensembleSpecs(int n) {
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            specs.add(spec(i));
        }
        return specs;
    }

    /** A configuration for the shared server under {@code root}, quick to notice a dead peer. */
    static ZooKeeperConfig config(String root) {
        return ZooKeeperConfig.connectingTo(server().getConnectString())
                .withRoot(root)
                .withSessionTimeout(Duration.ofSeconds(4))
                .withConnectionTimeout(Duration.ofSeconds(3));
    }

    /** The configuration file child JVMs read; a test that needs it skips when surefire did not name it. */
    static Path childConfigFile() {
        String file = System.getenv(ZooKeeperConfig.CONFIG_FILE_ENV);
        assumeTrue(
                file != null && !file.isBlank(),
                ZooKeeperConfig.CONFIG_FILE_ENV + " is not set (run through maven, whose surefire sets it)");
        return Path.of(file);
    }

    private static void writeChildConfig(String connect) {
        String file = System.getenv(ZooKeeperConfig.CONFIG_FILE_ENV);
        if (file == null || file.isBlank()) {
            return;
        }
        Path path = Path.of(file);
        try {
            Files.createDirectories(path.getParent());
            Path temp = Files.createTempFile(
                    path.getParent(),
                    "zookeeper-test",
                    ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(
                    temp,
                    ZooKeeperConfig.CONNECT_PROPERTY + "=" + connect + "\n"
                            + ZooKeeperConfig.ROOT_PROPERTY + "=" + KIT_ROOT + "\n"
                            + ZooKeeperConfig.SESSION_TIMEOUT_PROPERTY + "=PT4S\n"
                            + ZooKeeperConfig.CONNECTION_TIMEOUT_PROPERTY + "=PT3S\n",
                    StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(
                    temp,
                    path,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path, e);
        }
    }
}
