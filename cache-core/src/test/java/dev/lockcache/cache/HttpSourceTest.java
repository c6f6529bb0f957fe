package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.debris;
import static dev.lockcache.cache.TestData.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpSourceTest {

    private static final Duration IDLE = Duration.ofMillis(400);
    private static final Duration LIVENESS = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    private final byte[] body = new byte[300_000];
    private LoopbackServer server;

    @BeforeEach
    void start() throws Exception {
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31 + 7);
        }
        server = new LoopbackServer(body);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private DatasetCache cache(String path, HttpTimeouts timeouts) {
        return TestData.cache(tmp.resolve("root"))
                .httpTimeouts(timeouts)
                .register(DatasetSpec.of("web", DatasetSource.url(server.uri(path)), "body.bin")
                        .withSha256(sha256(body))
                        .withSize(body.length))
                .build();
    }

    private DatasetCache cache(String path) {
        return cache(path, HttpTimeouts.of(Duration.ofSeconds(5), IDLE, LIVENESS));
    }

    @Test
    void downloadsVerifiesAndReportsProgress() throws Exception {
        DatasetCache cache = cache("/ok");
        AtomicLong last = new AtomicLong();
        AtomicReference<OptionalLong> total = new AtomicReference<>();
        Path got = cache.fetch(
                "web", tmp.resolve("out.bin"), cache.defaultOptions().withProgress((key, bytes, announced) -> {
                    assertThat(key).isEqualTo("web");
                    assertThat(bytes).isGreaterThanOrEqualTo(last.get());
                    last.set(bytes);
                    total.set(announced);
                }));
        assertThat(Files.readAllBytes(got)).isEqualTo(body);
        assertThat(last.get()).isEqualTo(body.length);
        assertThat(total.get()).hasValue(body.length);
        assertThat(server.requests.get()).isEqualTo(1);
        cache.fetch("web", tmp.resolve("again.bin"));
        assertThat(server.requests.get()).as("IF_MISSING asks the server once").isEqualTo(1);
    }

    @Test
    void closingTheCacheClosesItsHttpClientAndLaterFetchesSaySo() throws Exception {
        long before = httpThreads(-1); // other tests' caches may still have theirs
        DatasetCache cache = cache("/ok");
        Path entry = cache.fetch("web");
        assertThat(httpThreads(-1))
                .as("the download built its client and timer")
                .isGreaterThan(before);
        cache.close();
        cache.close(); // idempotent
        assertThat(httpThreads(before)).as("the closed client's thread is gone").isEqualTo(before);
        assertThat(entry).exists();
        assertThatThrownBy(() -> cache.fetch("web"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("was closed")
                .hasMessageContaining("'web'");
    }

    /**
     * Live threads of caches' HTTP clients (their deadline timers); with {@code expected} at least 0, looks again
     * until that many are left (a shut-down executor's thread ends on its own schedule), up to 10 s.
     */
    private static long httpThreads(long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            long live = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && t.getName().startsWith("lockcache-http"))
                    .count();
            if (expected < 0 || live == expected || System.nanoTime() > deadline) {
                return live;
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void concurrentThreadsCauseOneRequest() throws Exception {
        DatasetCache cache = cache("/gated");
        server.gate = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            CountDownLatch calling = new CountDownLatch(3);
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Path target = tmp.resolve("t" + i + ".bin");
                results.add(pool.submit(() -> {
                    calling.countDown();
                    return cache.fetch("web", target);
                }));
            }
            assertThat(calling.await(30, TimeUnit.SECONDS)).isTrue();
            server.gate.countDown();
            for (Future<Path> f : results) {
                assertThat(Files.readAllBytes(f.get(30, TimeUnit.SECONDS))).isEqualTo(body);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(server.requests.get()).isEqualTo(1);
    }

    @Test
    void aTruncatedBodyIsRefused() {
        DatasetCache cache = cache("/truncated", HttpTimeouts.of(Duration.ofSeconds(5), LIVENESS, LIVENESS));
        assertThatThrownBy(() -> cache.fetch("web", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("'web'")
                .hasMessageContaining(server.uri("/truncated").toString())
                .hasMessageContaining(Integer.toString(body.length));
        assertNothingPublished(cache);
    }

    @Test
    void aBodyThatStallsEndsAtTheIdleTimeout() throws Exception {
        DatasetCache cache = cache("/stall");
        long start = System.nanoTime();
        assertThatThrownBy(() -> cache.fetch("web", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("idle timeout")
                .hasMessageContaining(server.uri("/stall").toString());
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(server.stalled.await(0, TimeUnit.SECONDS))
                .as("the server did stall mid-body")
                .isTrue();
        assertThat(took).isGreaterThanOrEqualTo(IDLE).isLessThan(LIVENESS);
        assertNothingPublished(cache);
    }

    @Test
    void anInterruptEndsADownloadBlockedInARead() throws Exception {
        // idle and total far beyond the join below: only the interrupt can end the read in time
        DatasetCache cache = cache(
                "/stall", HttpTimeouts.of(Duration.ofSeconds(5), LIVENESS.multipliedBy(3), LIVENESS.multipliedBy(3)));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread fetching = new Thread(() -> {
            try {
                cache.fetch("web", tmp.resolve("out.bin"));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        fetching.start();
        assertThat(server.stalled.await(30, TimeUnit.SECONDS)).isTrue();
        fetching.interrupt(); // the thread is in a socket read that no byte will end before the idle timeout
        fetching.join(LIVENESS.toMillis());
        assertThat(fetching.isAlive()).as("the interrupt ended the read").isFalse();
        assertThat(failure.get()).isInstanceOf(CacheFetchException.class).hasMessageContaining("interrupted");
        assertThat(cache.entryPath("web")).doesNotExist();
    }

    @Test
    void headersThatNeverComeEndAtTheIdleTimeout() {
        DatasetCache cache = cache("/stall-headers");
        long start = System.nanoTime();
        assertThatThrownBy(() -> cache.fetch("web", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("idle timeout");
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .isGreaterThanOrEqualTo(IDLE)
                .isLessThan(LIVENESS);
        assertNothingPublished(cache);
    }

    @Test
    void aStalledBodyEndsAtTheTotalTimeoutWhenThatComesFirst() {
        Duration total = Duration.ofMillis(700);
        DatasetCache cache = cache("/stall", HttpTimeouts.of(Duration.ofSeconds(5), Duration.ofSeconds(30), total));
        long start = System.nanoTime();
        assertThatThrownBy(() -> cache.fetch("web", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("total timeout");
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .isGreaterThanOrEqualTo(total)
                .isLessThan(LIVENESS);
        assertNothingPublished(cache);
    }

    @Test
    void aServerErrorIsAFetchError() {
        DatasetCache cache = cache("/error");
        assertThatThrownBy(() -> cache.fetch("web", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("HTTP status 500");
        assertNothingPublished(cache);
    }

    @Test
    void wrongContentIsAnIntegrityErrorAndAFailedRefreshKeepsTheEntry() throws Exception {
        DatasetCache good = cache("/ok");
        Path mirror = tmp.resolve("out.bin");
        good.fetch("web", mirror);
        byte[] other = body.clone();
        other[0] ^= 1;
        DatasetCache wrong = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of("web", DatasetSource.url(server.uri("/ok")), "body.bin")
                        .withSha256(sha256(other)))
                .build();
        assertThatThrownBy(() -> wrong.fetch("web", mirror, FetchPolicy.ALWAYS))
                .isInstanceOf(CacheIntegrityException.class)
                .hasMessageContaining(sha256(other))
                .hasMessageContaining(sha256(body));
        assertThat(Files.readAllBytes(mirror)).isEqualTo(body);
        assertThat(Files.readAllBytes(good.entryPath("web"))).isEqualTo(body);
        assertThat(debris(tmp)).isEmpty();
    }

    private void assertNothingPublished(DatasetCache cache) {
        assertThat(cache.entryPath("web")).doesNotExist();
        assertThat(tmp.resolve("out.bin")).doesNotExist();
        assertThat(debris(tmp)).isEmpty();
        assertThat(cache.entry("web")).isEmpty();
    }
}
