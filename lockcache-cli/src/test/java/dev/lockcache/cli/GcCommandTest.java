package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GcCommandTest {

    @TempDir
    Path dir;

    @Test
    void removesOrphansAndDebrisButNeverWhatIsInUseOrPublished() throws Exception {
        Path source = dir.resolve("kept.bin");
        Files.write(source, new byte[] {1, 2, 3, 4});
        Path cache = dir.resolve("cache");
        Cli.Result fetched = Cli.run(dir, "fetch", source.toString(), "--cache", cache.toString());
        assertThat(fetched.exit()).as(fetched.toString()).isZero();
        Path entry = Path.of(fetched.stdout().strip());
        Path root = cache.toRealPath();
        Path keptLock = root.resolve("locks").resolve(entry.getParent().getFileName() + ".lock");
        assertThat(keptLock).exists();

        Path orphanLock = Files.createFile(root.resolve("locks/gone.lock"));
        Path crashedTemp = Files.writeString(entry.resolveSibling(".kept.bin.0123456789abcdef.part"), "partial");
        Files.createDirectories(root.resolve("entries/busy"));
        Path busyTemp = Files.writeString(root.resolve("entries/busy/.busy.bin.fedcba9876543210.part"), "in progress");
        Path busyLock = root.resolve("locks/busy.lock");

        try (Cli fetcher = Cli.holder(dir, busyLock)) {

            Cli.Result young = Cli.run(dir, "gc", "--cache", cache.toString(), "--json");
            assertThat(JsonOutput.parse(young).get("removed"))
                    .as("everything is younger than 1h")
                    .isEmpty();

            Cli.Result dry =
                    Cli.run(dir, "gc", "--cache", cache.toString(), "--older-than", "0s", "--dry-run", "--json");
            assertThat(paths(JsonOutput.parse(dry).get("removed")))
                    .contains(orphanLock.toString(), crashedTemp.toString());
            assertThat(orphanLock).exists();
            assertThat(crashedTemp).exists();

            Cli.Result gc = Cli.run(dir, "gc", "--cache", cache.toString(), "--older-than", "0s", "--json");
            assertThat(gc.exit()).as(gc.toString()).isZero();
            JsonNode report = JsonOutput.parse(gc);
            assertThat(paths(report.get("removed")))
                    .containsExactlyInAnyOrder(orphanLock.toString(), crashedTemp.toString());
            assertThat(paths(report.get("skipped"))).containsExactly(busyLock.toString());
            long listed = 0;
            for (JsonNode removed : report.get("removed")) {
                listed += removed.get("bytes").asLong();
            }
            // the lock file holds the owner record its last try wrote; the temp held "partial"
            assertThat(report.get("bytesFreed").asLong()).isEqualTo(listed).isGreaterThanOrEqualTo("partial".length());
            fetcher.send("done");
            assertThat(fetcher.awaitResult().exit()).isZero();
        }
        assertThat(orphanLock).doesNotExist();
        assertThat(crashedTemp).doesNotExist();
        assertThat(busyTemp).as("the holder's temp file was not touched").exists();
        assertThat(entry).exists();
        assertThat(keptLock).as("the lock of a published entry stays").exists();

        Cli.Result text = Cli.run(dir, "gc", "--cache", cache.toString(), "--older-than", "0s");
        assertThat(text.exit()).isZero();
        assertThat(text.stdout()).contains("removed temp").contains(busyTemp.toString());
    }

    private static List<String> paths(JsonNode array) {
        List<String> paths = new ArrayList<>();
        array.forEach(n -> paths.add(n.get("path").asText()));
        return paths;
    }
}
