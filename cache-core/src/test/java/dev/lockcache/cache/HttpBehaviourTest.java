package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.debris;
import static dev.lockcache.cache.TestData.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** HTTP as users meet it: redirect chains, 429 with Retry-After, a private mirror's token, a proxy. */
class HttpBehaviourTest {

    private static final String TOKEN = "Bearer s3cret-token-value";

    @TempDir
    Path tmp;

    private byte[] body;
    private RangeServer server;

    @BeforeEach
    void start() throws Exception {
        body = new byte[200_000];
        new SplittableRandom(3).nextBytes(body);
        server = new RangeServer(body);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private DatasetCache.Builder builder(URI source, Duration total) {
        return TestData.cache(tmp.resolve("root"))
                .httpTimeouts(HttpTimeouts.of(Duration.ofSeconds(5), Duration.ofSeconds(20), total))
                .register(DatasetSpec.of("web", DatasetSource.url(source), "body.bin")
                        .withSha256(sha256(body)));
    }

    private DatasetCache cache(String path) {
        return builder(server.uri(path), Duration.ofSeconds(60)).build();
    }

    @Test
    void aRedirectChainIsFollowed() throws Exception {
        DatasetCache cache = cache("/r/4");
        assertThat(Files.readAllBytes(cache.fetch("web", tmp.resolve("out.bin"))))
                .isEqualTo(body);
        assertThat(server.seen)
                .extracting(RangeServer.Seen::path)
                .containsExactly("/r/4", "/r/3", "/r/2", "/r/1", "/data");
    }

    @Test
    void aChunkedBodyIsDecoded() throws Exception {
        DatasetCache cache = cache("/chunked");
        assertThat(Files.readAllBytes(cache.fetch("web", tmp.resolve("out.bin"))))
                .isEqualTo(body);
        assertThat(server.seen).hasSize(1);
    }

    @Test
    void aRedirectLoopEndsAtTheLimitWithAClearError() {
        DatasetCache cache = cache("/loop");
        assertThatThrownBy(() -> cache.fetch("web", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("more than " + HttpDownloader.MAX_REDIRECTS + " redirects")
                .hasMessageContaining(server.uri("/loop").toString());
        assertThat(server.seen).hasSize(HttpDownloader.MAX_REDIRECTS + 1);
        assertThat(tmp.resolve("out.bin")).doesNotExist();
        assertThat(debris(tmp)).isEmpty();
    }

    @Test
    void tooManyRequestsIsRetriedAfterTheTimeTheServerAsks() throws Exception {
        server.busy.set(1);
        DatasetCache cache = cache("/busy");
        assertThat(Files.readAllBytes(cache.fetch("web", tmp.resolve("out.bin"))))
                .isEqualTo(body);
        assertThat(server.seen).extracting(RangeServer.Seen::status).containsExactly(429, 200);
    }

    @Test
    void aRetryAfterBeyondTheTotalTimeoutFailsAtOnceSayingSo() {
        server.busy.set(1);
        server.retryAfter = "3600";
        DatasetCache cache =
                builder(server.uri("/busy"), Duration.ofSeconds(30)).build();
        long start = System.nanoTime();
        assertThatThrownBy(() -> cache.fetch("web", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("HTTP status 429")
                .hasMessageContaining("retry after 3600 s")
                .hasMessageContaining("total timeout");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
        assertThat(server.seen).hasSize(1);
        assertThat(debris(tmp)).isEmpty();
    }

    @Test
    void theAuthorizationGoesToItsHostOnlyAndNeverIntoAnError() throws Exception {
        DatasetCache cache = builder(server.uri("/to-localhost"), Duration.ofSeconds(60))
                .httpAuthorization("127.0.0.1:" + server.port(), TOKEN)
                .build();
        assertThat(Files.readAllBytes(cache.fetch("web", tmp.resolve("out.bin"))))
                .isEqualTo(body);
        assertThat(server.seen).extracting(RangeServer.Seen::authorization).containsExactly(TOKEN, null);
        assertThat(server.seen.get(1).host()).startsWith("localhost");

        DatasetCache failing = TestData.cache(tmp.resolve("root2"))
                .httpAuthorization("127.0.0.1:" + server.port(), TOKEN)
                .register(DatasetSpec.of("web", DatasetSource.url(server.uri("/error")), "body.bin"))
                .build();
        assertThatThrownBy(() -> failing.fetch("web", tmp.resolve("out2.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("HTTP status 500")
                .satisfies(e -> assertThat(fullText(e)).doesNotContain("s3cret"));
        assertThat(server.seen.get(2).authorization()).isEqualTo(TOKEN);
        assertThat(HttpAuthorization.of("example.org", TOKEN).toString()).doesNotContain("s3cret");
    }

    @Test
    void theAuthorizationIsNeverLoggedEvenWithHttpClientDebugLoggingOn() throws Exception {
        ch.qos.logback.classic.Logger hc = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("org.apache.hc");
        ch.qos.logback.classic.Level before = hc.getLevel();
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        hc.addAppender(events);
        hc.setLevel(ch.qos.logback.classic.Level.TRACE); // header and wire logs included
        try {
            DatasetCache cache = builder(server.uri("/r/1"), Duration.ofSeconds(60))
                    .httpAuthorization("127.0.0.1:" + server.port(), TOKEN)
                    .build();
            assertThat(Files.readAllBytes(cache.fetch("web", tmp.resolve("out.bin"))))
                    .isEqualTo(body);
        } finally {
            hc.setLevel(before);
            hc.detachAppender(events);
        }
        assertThat(server.seen).extracting(RangeServer.Seen::authorization).containsExactly(TOKEN, TOKEN);
        assertThat(events.list).as("HttpClient did log at debug level").isNotEmpty();
        assertThat(events.list).extracting(ILoggingEvent::getFormattedMessage).noneMatch(m -> m.contains("s3cret"));
    }

    @Test
    void aRequestGoesThroughTheProxyTheSelectorNames() throws Exception {
        // the proxy answers with its own copy of the data: only a request through it can succeed
        try (RangeServer proxy = new RangeServer(body)) {
            DatasetCache cache = builder(URI.create("http://dataset.invalid/data"), Duration.ofSeconds(60))
                    .proxySelector(selector(proxy))
                    .build();
            assertThat(Files.readAllBytes(cache.fetch("web", tmp.resolve("out.bin"))))
                    .isEqualTo(body);
            assertThat(proxy.seen).extracting(RangeServer.Seen::host).containsExactly("dataset.invalid");
            assertThat(server.seen).isEmpty();
        }
    }

    @Test
    void aSocksProxyTheSelectorNamesCarriesTheConnection() throws Exception {
        try (SocksRelay socks = new SocksRelay()) {
            ProxySelector selector = new ProxySelector() {
                @Override
                public List<Proxy> select(URI uri) {
                    return List.of(new Proxy(Proxy.Type.SOCKS, new InetSocketAddress("127.0.0.1", socks.port())));
                }

                @Override
                public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
            };
            DatasetCache cache = builder(server.uri("/data"), Duration.ofSeconds(60))
                    .proxySelector(selector)
                    .build();
            assertThat(Files.readAllBytes(cache.fetch("web", tmp.resolve("out.bin"))))
                    .isEqualTo(body);
            assertThat(socks.relayed)
                    .as("connections relayed by the SOCKS proxy")
                    .hasValue(1);
            assertThat(server.seen).hasSize(1);
        }
    }

    /** A SOCKS5 proxy (no authentication, CONNECT to an IPv4 address) that relays each connection. */
    private static final class SocksRelay implements AutoCloseable {
        final java.util.concurrent.atomic.AtomicInteger relayed = new java.util.concurrent.atomic.AtomicInteger();
        private final java.net.ServerSocket listener =
                new java.net.ServerSocket(0, 8, java.net.InetAddress.getLoopbackAddress());
        private final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool();

        SocksRelay() throws IOException {
            pool.execute(() -> {
                while (!listener.isClosed()) {
                    try {
                        java.net.Socket client = listener.accept();
                        pool.execute(() -> relay(client));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return listener.getLocalPort();
        }

        private void relay(java.net.Socket client) {
            try (client) {
                java.io.DataInputStream in = new java.io.DataInputStream(client.getInputStream());
                java.io.OutputStream out = client.getOutputStream();
                in.readUnsignedByte(); // version 5
                in.readFully(new byte[in.readUnsignedByte()]); // offered methods
                out.write(new byte[] {5, 0}); // no authentication
                byte[] request = new byte[4];
                in.readFully(request); // 5, CONNECT, 0, address type
                if (request[3] != 1) {
                    out.write(new byte[] {5, 8, 0, 1, 0, 0, 0, 0, 0, 0}); // address type not supported
                    return;
                }
                byte[] address = new byte[4];
                in.readFully(address);
                int port = in.readUnsignedShort();
                try (java.net.Socket target = new java.net.Socket(java.net.InetAddress.getByAddress(address), port)) {
                    out.write(new byte[] {5, 0, 0, 1, 0, 0, 0, 0, 0, 0});
                    out.flush();
                    relayed.incrementAndGet();
                    java.util.concurrent.Future<?> back = pool.submit(() -> {
                        try {
                            target.getInputStream().transferTo(out);
                            client.shutdownOutput();
                        } catch (IOException e) {
                            // one side closed
                        }
                        return null;
                    });
                    in.transferTo(target.getOutputStream());
                    target.shutdownOutput();
                    back.get(60, java.util.concurrent.TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                // the client or target went away
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            pool.shutdownNow();
        }
    }

    @Test
    void withoutASelectorOfItsOwnTheCacheUsesTheJdksDefault() throws Exception {
        ProxySelector before = ProxySelector.getDefault();
        try (RangeServer proxy = new RangeServer(body)) {
            ProxySelector.setDefault(selector(proxy));
            DatasetCache cache = builder(URI.create("http://dataset.invalid/data"), Duration.ofSeconds(60))
                    .build();
            assertThat(Files.readAllBytes(cache.fetch("web", tmp.resolve("out.bin"))))
                    .isEqualTo(body);
            assertThat(proxy.seen).hasSize(1);
        } finally {
            ProxySelector.setDefault(before);
        }
    }

    private static ProxySelector selector(RangeServer proxy) {
        return new ProxySelector() {
            @Override
            public List<Proxy> select(URI uri) {
                return List.of(new Proxy(Proxy.Type.HTTP, new InetSocketAddress("127.0.0.1", proxy.port())));
            }

            @Override
            public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
        };
    }

    private static String fullText(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            text.append(t).append('\n');
            for (Throwable s : t.getSuppressed()) {
                text.append(s).append('\n');
            }
        }
        return text.toString();
    }
}
