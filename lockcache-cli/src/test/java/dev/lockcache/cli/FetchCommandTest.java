package dev.lockcache.cli;

import static dev.lockcache.cli.RunCommandTest.assertOneLineError;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FetchCommandTest {

    @TempDir
    Path dir;

    @Test
    void fetchesAFileIntoTheCacheAndMirrorsIt() throws Exception {
        byte[] data = new byte[300_000];
        new Random(7).nextBytes(data);
        Path source = dir.resolve("source.bin");
        Files.write(source, data);
        String sha = sha256(data);
        Path cache = dir.resolve("cache");

        Cli.Result first = Cli.run(
                dir, "fetch", source.toString(), "--sha256", sha, "--size", "300000", "--cache", cache.toString());
        assertThat(first.exit()).as(first.toString()).isZero();
        Path entry = Path.of(first.stdout().strip());
        assertThat(entry).startsWith(cache.toRealPath());
        assertThat(Files.readAllBytes(entry)).isEqualTo(data);
        assertThat(first.stderr()).as("quiet when stderr is not a terminal").isEmpty();

        Path mirror = dir.resolve("work/copy.bin");
        Cli.Result second = Cli.run(
                dir,
                "fetch",
                source.toUri().toString(),
                "--to",
                mirror.toString(),
                "--cache",
                cache.toString(),
                "--policy",
                "never");
        assertThat(second.exit()).as(second.toString()).isZero();
        assertThat(second.stdout().strip()).isEqualTo(mirror.toString());
        assertThat(Files.readAllBytes(mirror)).isEqualTo(data);
    }

    @Test
    void anHttpSourceIsDownloadedOnceUnlessRefreshed() throws Exception {
        byte[] data = new byte[200_000];
        new Random(11).nextBytes(data);
        AtomicInteger downloads = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/d.bin", exchange -> {
            downloads.incrementAndGet();
            exchange.sendResponseHeaders(200, data.length);
            try (OutputStream body = exchange.getResponseBody()) {
                body.write(data);
            }
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/d.bin";
            String cache = dir.resolve("cache").toString();
            for (int i = 0; i < 2; i++) {
                Cli.Result r = Cli.run(dir, "fetch", url, "--sha256", sha256(data), "--cache", cache);
                assertThat(r.exit()).as(r.toString()).isZero();
                assertThat(Files.readAllBytes(Path.of(r.stdout().strip()))).isEqualTo(data);
            }
            assertThat(downloads.get()).isEqualTo(1);
            Cli.Result refresh = Cli.run(dir, "fetch", url, "--policy", "always", "--cache", cache);
            assertThat(refresh.exit()).as(refresh.toString()).isZero();
            assertThat(downloads.get()).isEqualTo(2);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void badInputGivesOneLineAndNoStackTrace() throws Exception {
        Path source = dir.resolve("s.bin");
        Files.write(source, new byte[] {1, 2, 3});
        String cache = dir.resolve("cache").toString();

        Cli.Result noSource = Cli.run(dir, "fetch", "--cache", cache);
        assertThat(noSource.exit()).isEqualTo(ExitCode.USAGE);
        assertOneLineError(noSource, "SOURCE");

        Cli.Result badSha = Cli.run(dir, "fetch", source.toString(), "--sha256", "xyz", "--cache", cache);
        assertThat(badSha.exit()).isEqualTo(ExitCode.USAGE);
        assertOneLineError(badSha, "sha256 'xyz'");

        Cli.Result mismatch = Cli.run(dir, "fetch", source.toString(), "--sha256", "0".repeat(64), "--cache", cache);
        assertThat(mismatch.exit()).isEqualTo(ExitCode.FAILURE);
        assertOneLineError(mismatch, "sha256 mismatch");

        Cli.Result absent = Cli.run(dir, "fetch", dir.resolve("absent.bin").toString(), "--cache", cache);
        assertThat(absent.exit()).isEqualTo(ExitCode.FAILURE);
        assertOneLineError(absent, "absent.bin");

        Cli.Result scheme = Cli.run(dir, "fetch", "ftp://example.invalid/x", "--cache", cache);
        assertThat(scheme.exit()).isEqualTo(ExitCode.USAGE);
        assertOneLineError(scheme, "unsupported scheme");

        Cli.Result provider =
                Cli.run(dir, "fetch", source.toString(), "--provider", "no-such-provider", "--cache", cache);
        assertThat(provider.exit()).isEqualTo(ExitCode.USAGE);
        assertOneLineError(provider, "unknown provider 'no-such-provider'; known: ");

        Cli.Result size = Cli.run(dir, "fetch", source.toString(), "--size", "3 apples", "--cache", cache);
        assertThat(size.exit()).isEqualTo(ExitCode.USAGE);
        assertOneLineError(size, "is not a size");
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
