package dev.lockcache.cache;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on 127.0.0.1 (port chosen by the kernel) that serves one body in several ways and counts
 * requests: {@code /ok}, {@code /truncated} (announces the full length, sends half, closes), {@code /stall}
 * (sends half, then waits for {@link #release}), {@code /stall-headers} (waits before any header), {@code
 * /error} (500), {@code /gated} (waits for {@link #gate} before answering).
 */
final class LoopbackServer implements AutoCloseable {

    final AtomicInteger requests = new AtomicInteger();
    /** Opened by the test to let stalled handlers finish. */
    final CountDownLatch release = new CountDownLatch(1);
    /** Counted down by the test before {@code /gated} answers. */
    volatile CountDownLatch gate = new CountDownLatch(0);
    /** Counted down when a stalled handler has sent what it will send before stalling. */
    final CountDownLatch stalled = new CountDownLatch(1);

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final byte[] body;

    LoopbackServer(byte[] body) throws IOException {
        this.body = body.clone();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            String path = exchange.getRequestURI().getPath();
            switch (path) {
                case "/ok" -> send(exchange, 200, body);
                case "/gated" -> {
                    await(gate);
                    send(exchange, 200, body);
                }
                case "/error" -> send(exchange, 500, "internal error".getBytes());
                case "/truncated" -> {
                    exchange.sendResponseHeaders(200, body.length);
                    OutputStream out = exchange.getResponseBody();
                    out.write(body, 0, body.length / 2);
                    out.flush();
                    // closing the exchange short of the announced length drops the connection
                }
                case "/stall" -> {
                    exchange.sendResponseHeaders(200, body.length);
                    OutputStream out = exchange.getResponseBody();
                    out.write(body, 0, body.length / 2);
                    out.flush();
                    stalled.countDown();
                    await(release);
                }
                case "/stall-headers" -> {
                    stalled.countDown();
                    await(release);
                }
                default -> send(exchange, 404, new byte[0]);
            }
        } catch (IOException e) {
            // the client hung up (timeouts do that); nothing to report
        }
    }

    private static void send(HttpExchange exchange, int status, byte[] content) throws IOException {
        exchange.sendResponseHeaders(status, content.length == 0 ? -1 : content.length);
        if (content.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(content);
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("test never released the handler");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
