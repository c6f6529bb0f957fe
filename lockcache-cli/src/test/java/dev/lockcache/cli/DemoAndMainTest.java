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

    /** The summaries under "Commands:" in the top-level help, continuation lines joined. */
    private static java.util.List<String> summaries(String help) {
        java.util.List<String> summaries = new java.util.ArrayList<>();
        boolean inCommands = false;
        for (String line : help.split("\\R")) {
            if (line.equals("Commands:")) {
                inCommands = true;
            } else if (inCommands && line.isBlank()) {
                break;
            } else if (inCommands && line.matches("  \\S.*")) {
                summaries.add(line.strip().replaceFirst("^\\S+\\s+", ""));
            } else if (inCommands) {
                int last = summaries.size() - 1;
                summaries.set(last, summaries.get(last) + " " + line.strip());
            }
        }
        return summaries;
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
        assertThat(subHelp.stdout())
                .contains("--nonblock", "--conflict-exit-code", "126", "127")
                .doesNotContain("75");
        for (String other : new String[] {"fetch", "providers", "inspect", "gc", "demo"}) {
            Cli.Result otherHelp = Cli.run(dir, other, "--help");
            assertThat(otherHelp.exit()).isZero();
            assertThat(otherHelp.stdout())
                    .as(other + " lists its own exit statuses, not run's")
                    .contains("Exit status:")
                    .doesNotContain("127");
        }
        assertThat(summaries(help.stdout()))
                .as("every command's summary in --help is a whole sentence")
                .hasSize(7)
                .allSatisfy(summary -> assertThat(summary).endsWith("."));
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
