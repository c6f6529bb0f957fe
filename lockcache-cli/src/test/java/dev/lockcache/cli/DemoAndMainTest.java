package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoAndMainTest {

    @TempDir
    Path dir;

    @Test
    void theDemoDownloadsOnceForAllCallers() throws Exception {
        Cli.Result result = Cli.run(dir, "demo", "--workers", "3", "--threads", "2", "--size", "2MiB", "--json");
        assertThat(result.exit()).as(result.toString()).isZero();
        JsonNode report = JsonOutput.parse(result);
        assertThat(report.get("callers").asInt()).isEqualTo(6);
        assertThat(report.get("downloads").asInt()).isEqualTo(1);
        assertThat(report.get("identical").asBoolean()).isTrue();
        assertThat(report.get("bytesServed").asLong()).isEqualTo(2L << 20);
        assertThat(report.get("provider").asText()).isNotBlank();
    }

    @Test
    void helpVersionAndUsage() throws Exception {
        Cli.Result help = Cli.run(dir, "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.stdout())
                .contains("fetch", "run", "providers", "inspect", "gc", "demo")
                .doesNotContain("demo-worker");
        Cli.Result subHelp = Cli.run(dir, "run", "--help");
        assertThat(subHelp.exit()).isZero();
        assertThat(subHelp.stdout()).contains("--nonblock").contains("75");
        Cli.Result version = Cli.run(dir, "gc", "--version");
        assertThat(version.exit()).isZero();
        assertThat(version.stdout()).startsWith("lockcache ");
        Cli.Result none = Cli.run(dir);
        assertThat(none.exit()).isEqualTo(ExitCode.USAGE);
        RunCommandTest.assertOneLineError(none, "missing command");
        Cli.Result unknown = Cli.run(dir, "frobnicate");
        assertThat(unknown.exit()).isEqualTo(ExitCode.USAGE);
        RunCommandTest.assertOneLineError(unknown, "frobnicate");
    }
}
