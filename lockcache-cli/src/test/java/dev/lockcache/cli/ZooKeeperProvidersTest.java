package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lockcache providers} shows the zookeeper provider's connection state: the ensemble it is configured for,
 * and after its probe the session it connected (or that it cannot reach the ensemble, naming the key to fix).
 */
class ZooKeeperProvidersTest {

    @TempDir
    Path dir;

    @Test
    void providersShowsTheEnsembleAndTheSessionTheProbeConnected() throws Exception {
        try (TestingServer server = new TestingServer(true)) {
            JsonNode zookeeper = zookeeperEntry(Map.of("LOCKCACHE_ZOOKEEPER_CONNECT", server.getConnectString()));
            assertThat(zookeeper.get("available").asBoolean()).isTrue();
            assertThat(zookeeper.get("reason").asText())
                    .contains("ZooKeeper at " + server.getConnectString())
                    .contains("not connected yet");
            assertThat(zookeeper.get("probe").asText()).isEqualTo("excludes");
            assertThat(zookeeper.get("probeReason").asText())
                    .contains("excluded each other")
                    .contains("connected (session 0x");
        }
    }

    @Test
    void providersSaysWhenTheEnsembleCannotBeReached() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        JsonNode zookeeper = zookeeperEntry(Map.of(
                "LOCKCACHE_ZOOKEEPER_CONNECT",
                "127.0.0.1:" + closedPort,
                "LOCKCACHE_ZOOKEEPER_CONNECTION_TIMEOUT",
                "PT1S"));
        assertThat(zookeeper.get("probe").asText()).isEqualTo("unavailable");
        assertThat(zookeeper.get("probeReason").asText())
                .contains("cannot reach ZooKeeper at 127.0.0.1:" + closedPort)
                .contains("lockcache.zookeeper.connect");
    }

    private JsonNode zookeeperEntry(Map<String, String> env) throws Exception {
        Cli.Result result = Cli.run(dir, env, "providers", dir.toString(), "--json");
        assertThat(result.exit()).as(result.toString()).isZero();
        for (JsonNode provider : JsonOutput.parse(result).get("providers")) {
            if (provider.get("name").asText().equals("zookeeper")) {
                return provider;
            }
        }
        throw new AssertionError("no zookeeper provider in " + result);
    }
}
