package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * https sources over the cache's own connection: a certificate the context trusts and that names the host is
 * fetched; an untrusted one, or one for another name, is a clear error and nothing is published.
 */
class HttpsSourceTest {

    @TempDir
    Path tmp;

    private final byte[] body = new byte[500_000];
    private HttpsServer server;
    private ExecutorService executor;
    private SSLContext trusting;

    @BeforeEach
    void start() throws Exception {
        new SplittableRandom(5).nextBytes(body);
        Path keystore = tmp.resolve("server.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        assumeTrue(Files.isExecutable(keytool), "keytool is missing from " + keytool);
        Process p = new ProcessBuilder(
                        keytool.toString(),
                        "-genkeypair",
                        "-alias",
                        "server",
                        "-keyalg",
                        "EC",
                        "-dname",
                        "CN=localhost",
                        "-ext",
                        "SAN=dns:localhost",
                        "-validity",
                        "2",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        keystore.toString(),
                        "-storepass",
                        "changeit")
                .redirectErrorStream(true)
                .start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext serving = SSLContext.getInstance("TLS");
        serving.init(kmf.getKeyManagers(), null, null);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        trusting = SSLContext.getInstance("TLS");
        trusting.init(null, tmf.getTrustManagers(), null);

        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serving));
        server.createContext("/data", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        executor.shutdownNow();
    }

    private DatasetCache.Builder cache(String host) {
        URI uri = URI.create("https://" + host + ":" + server.getAddress().getPort() + "/data");
        return TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of("tls", DatasetSource.url(uri), "body.bin")
                        .withSha256(sha256(body)));
    }

    @Test
    void aTrustedCertificateThatNamesTheHostIsFetched() throws Exception {
        assertThat(Files.readAllBytes(
                        cache("localhost").sslContext(trusting).build().fetch("tls", tmp.resolve("a"))))
                .isEqualTo(body);
    }

    @Test
    void aPlainHttpDownloadSetsUpNoTlsAndTheFirstHttpsOneDoes() throws Exception {
        try (LoopbackServer plain = new LoopbackServer(body);
                HttpTransport transport =
                        new HttpTransport(HttpTimeouts.DEFAULT, ProxySelector.getDefault(), trusting)) {
            try (HttpTransport.Exchange e = transport.get(
                    plain.uri("/ok"), Map.of(), Duration.ofSeconds(30).toNanos())) {
                assertThat(e.status()).isEqualTo(200);
                assertThat(readAll(e)).isEqualTo(body);
            }
            assertThat(transport.tlsStarted()).as("no TLS for plain http").isFalse();
            URI secure = URI.create("https://localhost:" + server.getAddress().getPort() + "/data");
            try (HttpTransport.Exchange e =
                    transport.get(secure, Map.of(), Duration.ofSeconds(30).toNanos())) {
                assertThat(e.status()).isEqualTo(200);
                assertThat(readAll(e)).isEqualTo(body);
            }
            assertThat(transport.tlsStarted()).isTrue();
        }
    }

    private static byte[] readAll(HttpTransport.Exchange e) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = e.read(buf, 0, buf.length)) >= 0; ) {
            all.write(buf, 0, n);
        }
        return all.toByteArray();
    }

    @Test
    void anUntrustedCertificateIsAClearErrorAndNothingIsPublished() {
        DatasetCache cache = cache("localhost").build(); // the JDK's default trust: it does not know this certificate
        assertThatThrownBy(() -> cache.fetch("tls", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("https://localhost:");
        assertThat(tmp.resolve("out.bin")).doesNotExist();
        assertThat(cache.entry("tls")).isEmpty();
    }

    @Test
    void aCertificateForAnotherNameIsRefused() {
        // the certificate names localhost only; the same server reached as 127.0.0.1 must not be believed
        DatasetCache cache = cache("127.0.0.1").sslContext(trusting).build();
        assertThatThrownBy(() -> cache.fetch("tls", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("https://127.0.0.1:")
                .satisfies(e -> assertThat(chain(e)).containsIgnoringCase("subject alternative name"));
        assertThat(tmp.resolve("out.bin")).doesNotExist();
    }

    private static String chain(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            text.append(t.getMessage()).append('\n');
        }
        return text.toString();
    }
}
