package dev.lockcache.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.lockcache.cache.DatasetCache;
import dev.lockcache.cache.DatasetSource;
import dev.lockcache.cache.DatasetSpec;
import dev.lockcache.lock.FileLocks;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's quick starts run as shown, against the providers a user would put on the class path. */
class QuickStartsTest {

    @TempDir
    Path dir;

    private static String run(ThrowingRunnable main) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            main.run();
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void theLockQuickStartRuns() throws Exception {
        String out =
                run(() -> LockQuickStart.main(new String[] {dir.resolve("locks").toString()}));
        assertThat(out)
                .contains("held through flock")
                .contains("held by this thread: true")
                .contains("imported 42 rows")
                .contains("shared: SHARED");
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void theCacheQuickStartFetchesOnceOverHttp() throws Exception {
        byte[] body = "not really mnist\n".repeat(1000).getBytes(StandardCharsets.UTF_8);
        String sha256 =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        AtomicInteger downloads = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/mnist.npz", exchange -> {
            downloads.incrementAndGet();
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream response = exchange.getResponseBody()) {
                response.write(body);
            }
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/mnist.npz";
            String[] args = {
                url,
                sha256,
                Long.toString(body.length),
                dir.resolve("cache").toString(),
                dir.resolve("work").toString()
            };
            String first = run(() -> CacheQuickStart.main(args));
            String second = run(() -> CacheQuickStart.main(args));
            assertThat(first).contains("with lock flock");
            assertThat(second).contains("fetched");
        } finally {
            server.stop(0);
        }
        assertThat(Files.readAllBytes(dir.resolve("work").resolve("mnist.npz"))).isEqualTo(body);
        assertThat(downloads.get()).as("IF_MISSING downloads once").isEqualTo(1);
    }

    @Test
    void theGuiceWiringUsesTheApplicationsOwnProvider() throws Exception {
        Path source = Files.writeString(dir.resolve("features.csv"), "a,b\n1,2\n");
        DatasetCache cache = GuiceQuickStart.cache(dir.resolve("cache"));
        cache.register(DatasetSpec.of("features", DatasetSource.file(source), "features.csv"));
        Path fetched = cache.fetch("features", dir.resolve("work").resolve("features.csv"));
        assertThat(Files.readString(fetched)).isEqualTo("a,b\n1,2\n");
        assertThat(cache.lockVerdict().providerName()).isEqualTo(MkdirLockProvider.NAME);
    }
}
