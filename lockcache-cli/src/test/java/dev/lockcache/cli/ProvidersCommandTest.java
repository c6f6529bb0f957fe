package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvidersCommandTest {

    @TempDir
    Path dir;

    @Test
    void listsEveryProviderWithItsProbeAndTheStrategysPick() throws Exception {
        Cli.Result result = Cli.run(dir, "providers", "--json", dir.toString());
        assertThat(result.exit()).as(result.toString()).isZero();
        JsonNode report = JsonOutput.parse(result);
        assertThat(report.get("directory").asText()).isEqualTo(dir.toString());
        assertThat(report.at("/filesystem/type").asText()).isNotBlank();
        assertThat(report.at("/filesystem/mountOptions").isArray()).isTrue();
        List<String> names = new ArrayList<>();
        for (JsonNode provider : report.get("providers")) {
            names.add(provider.get("name").asText());
            assertThat(provider.has("available")).isTrue();
            assertThat(provider.get("reason").asText()).isNotBlank();
            assertThat(provider.get("probe").asText())
                    .isIn("excludes", "does-not-exclude", "unavailable", "not-run", "failed");
        }
        assertThat(names).contains("exclusive-create", "nio", "flock", "ofd", "double");
        String chosen = report.at("/chosen/name").asText();
        assertThat(names).contains(chosen);
        assertThat(report.at("/chosen/reason").asText()).isNotBlank();
        assertThat(report.get("candidates").get(0).get("outcome").asText()).isNotBlank();
    }

    @Test
    void defaultsToTheCacheRootAndPrintsForPeople() throws Exception {
        Path root = dir.resolve("root");
        Cli.Result result = Cli.run(dir, Map.of("LOCKCACHE_HOME", root.toString()), "providers");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.stdout())
                .contains("directory   " + root)
                .contains("filesystem  ")
                .contains("chosen      ");
    }

    @Test
    void aMissingDirectoryIsOneLine() throws Exception {
        Cli.Result result = Cli.run(dir, "providers", dir.resolve("nope").toString());
        assertThat(result.exit()).isEqualTo(ExitCode.FAILURE);
        RunCommandTest.assertOneLineError(result, "no directory at");
    }
}
