package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
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

    @Test
    void removesPartialDownloadsOlderThanThePartialAgeUnlessTheirKeyIsInUse() throws Exception {
        byte[] body = new byte[1 << 20];
        new java.util.SplittableRandom(11).nextBytes(body);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                exchange.getResponseHeaders().set("ETag", "\"v1\"");
                exchange.sendResponseHeaders(200, body.length);
                OutputStream out = exchange.getResponseBody();
                out.write(body, 0, body.length / 2);
                out.flush();
                // closing short of the length drops the connection: the fetch keeps what it got, to resume
            }
        });
        server.start();
        Path cache = dir.resolve("cache");
        try {
            for (String key : List.of("old", "busy")) {
                String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/" + key + ".bin";
                Cli.Result failed = Cli.run(dir, "fetch", url, "--key", key, "--cache", cache.toString());
                assertThat(failed.exit()).as(failed.toString()).isNotZero();
            }
        } finally {
            server.stop(0);
        }
        Path root = cache.toRealPath();
        Path oldPartial = root.resolve("entries/old/.old.bin.incomplete");
        Path oldSidecar = root.resolve("entries/old/.old.bin.incomplete.properties");
        Path busyPartial = root.resolve("entries/busy/.busy.bin.incomplete");
        assertThat(oldPartial)
                .as("the failed fetch kept its bytes for a resume")
                .exists();
        assertThat(oldSidecar).exists();
        assertThat(busyPartial).exists();

        Cli.Result young = Cli.run(dir, "gc", "--cache", cache.toString(), "--json");
        assertThat(paths(JsonOutput.parse(young).get("removed")))
                .as("a partial download written just now is younger than the default 24h")
                .isEmpty();
        assertThat(oldPartial).exists();

        FileTime twoDaysAgo = FileTime.from(Instant.now().minus(Duration.ofDays(2)));
        Files.setLastModifiedTime(oldPartial, twoDaysAgo);
        Files.setLastModifiedTime(busyPartial, twoDaysAgo);
        try (Cli fetcher = Cli.holder(dir, root.resolve("locks/busy.lock"))) {
            Cli.Result gc = Cli.run(dir, "gc", "--cache", cache.toString(), "--json");
            assertThat(gc.exit()).as(gc.toString()).isZero();
            JsonNode report = JsonOutput.parse(gc);
            assertThat(paths(report.get("removed"))).containsExactly(oldPartial.toString());
            assertThat(report.get("removed").get(0).get("kind").asText()).isEqualTo("partial");
            assertThat(report.get("removed").get(0).get("bytes").asLong()).isEqualTo(body.length / 2);
            assertThat(paths(report.get("skipped"))).contains(busyPartial.toString());
            fetcher.send("done");
            assertThat(fetcher.awaitResult().exit()).isZero();
        }
        assertThat(oldPartial).doesNotExist();
        assertThat(oldSidecar).as("its description goes with it").doesNotExist();
        assertThat(busyPartial).as("a partial download of a key in use is kept").exists();

        Cli.Result text = Cli.run(dir, "gc", "--cache", cache.toString(), "--partial-age", "1h");
        assertThat(text.exit()).isZero();
        assertThat(text.stdout()).contains("removed partial").contains(busyPartial.toString());
        assertThat(busyPartial).doesNotExist();
    }

    @Test
    void helpNamesThePartialAge() throws Exception {
        Cli.Result help = Cli.run(dir, "gc", "--help");
        assertThat(help.stdout()).contains("--partial-age").contains("24h");
    }

    private static List<String> paths(JsonNode array) {
        List<String> paths = new ArrayList<>();
        array.forEach(n -> paths.add(n.get("path").asText()));
        return paths;
    }
}
