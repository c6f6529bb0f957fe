package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lockcache demo --zookeeper}: the workers lock through the zookeeper provider on a 3-server ensemble the demo
 * starts (three server JVMs on loopback), or on an ensemble named; the report gives the ensemble, its leader and the
 * single download. And the plain commands do not pay for it: {@code --version} and {@code demo --help} load no
 * ZooKeeper class.
 */
class DemoZooKeeperTest {

    @TempDir
    Path dir;

    @Test
    void theDemoOnItsOwnEnsembleDownloadsOnceAndNamesTheLeader() throws Exception {
        Cli.Result result =
                Cli.run(dir, "demo", "--zookeeper", "--workers", "2", "--threads", "2", "--size", "1MiB", "--json");
        assertThat(result.exit()).as(result.toString()).isZero();
        JsonNode report = JsonOutput.parse(result);
        assertThat(report.get("callers").asInt()).isEqualTo(4);
        assertThat(report.get("downloads").asInt()).isEqualTo(1);
        assertThat(report.get("identical").asBoolean()).isTrue();
        assertThat(report.get("provider").asText()).isEqualTo("zookeeper");
        JsonNode zookeeper = report.get("zookeeper");
        assertThat(zookeeper.get("embedded").asBoolean()).isTrue();
        assertThat(zookeeper.get("servers").asInt()).isEqualTo(3);
        String connect = zookeeper.get("connectString").asText();
        assertThat(connect.split(",")).hasSize(3).allMatch(member -> member.matches("127\\.0\\.0\\.1:\\d+"));
        Matcher leader = Pattern.compile("server ([123]) \\((127\\.0\\.0\\.1:\\d+)\\)")
                .matcher(zookeeper.get("leader").asText());
        assertThat(leader.matches()).as(zookeeper.toString()).isTrue();
        assertThat(Arrays.asList(connect.split(","))).contains(leader.group(2));
        assertThat(zookeeper.get("root").asText()).startsWith("/lockcache-demo-");
        assertThat(report.get("providerReason").asText())
                .as("the workers probed the ensemble the demo started")
                .contains(connect);
    }

    @Test
    void theDemoOnANamedEnsembleSaysSoInWords() throws Exception {
        try (TestingServer server = new TestingServer(true)) {
            Cli.Result result = Cli.run(
                    dir,
                    "demo",
                    "--zookeeper",
                    server.getConnectString(),
                    "--workers",
                    "2",
                    "--threads",
                    "1",
                    "--size",
                    "64KiB");
            assertThat(result.exit()).as(result.toString()).isZero();
            assertThat(result.stdout())
                    .contains("downloads    1 (counted by the server)")
                    .contains("provider     zookeeper: ")
                    .contains("ensemble     " + server.getConnectString() + "\n")
                    .containsPattern("leader       .+; the workers' locks under /lockcache-demo-");
        }
    }

    @Test
    void versionAndDemoHelpLoadNoZooKeeperClass() throws Exception {
        for (String[] args : new String[][] {{"--version"}, {"demo", "--help"}}) {
            Path log = dir.resolve("classes-" + String.join("-", args) + ".log");
            Cli.Result result = Cli.run(dir, Map.of("JAVA_TOOL_OPTIONS", "-Xlog:class+load=info:file=" + log), args);
            assertThat(result.exit()).as(result.toString()).isZero();
            String loaded = Files.readString(log);
            assertThat(loaded)
                    .as("classes loaded by %s", String.join(" ", args))
                    .contains("dev.lockcache.cli.Main");
            assertThat(loaded)
                    .as("classes loaded by %s", String.join(" ", args))
                    .doesNotContain("org.apache.zookeeper")
                    .doesNotContain("org.apache.curator")
                    .doesNotContain("dev.lockcache.cli.DemoEnsemble");
        }
    }
}
