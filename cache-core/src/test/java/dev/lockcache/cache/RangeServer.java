package dev.lockcache.cache;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loopback HTTP server for resume and HTTP-behaviour tests: {@code /data} serves the current version (its bytes
 * and validators can change between requests) with or without {@code Range} support, honouring or ignoring {@code
 * If-Range}; the next response can be cut (the connection dropped) or stalled after a number of body bytes.
 * {@code /r/N} redirects N times before {@code /data}; {@code /loop} redirects to itself; {@code /busy} answers 429
 * with {@code Retry-After} while {@link #busy} is positive; {@code /to-localhost} redirects to {@code /data} under
 * the host name {@code localhost}; {@code /chunked} sends the body in chunks of 7777 bytes; {@code /error} is a
 * 500. Every request is recorded with the headers the tests
 * look at, and the body bytes each response sent are counted.
 */
final class RangeServer implements AutoCloseable {

    /** One request as the server saw it. */
    record Seen(String path, String host, String range, String ifRange, String authorization, int status, long sent) {}

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    volatile byte[] body;
    volatile String etag = "\"v1\"";
    volatile String lastModified = "Tue, 01 Dec 2026 10:00:00 GMT";
    volatile boolean ranges = true;
    volatile boolean ignoreIfRange;
    /** The next response of /data sends this many body bytes, then drops the connection (-1: no cut). */
    final AtomicLong cutNextAt = new AtomicLong(-1);
    /** The next response of /data sends this many body bytes, then stalls until {@link #release} (-1: none). */
    final AtomicLong stallNextAt = new AtomicLong(-1);

    final CountDownLatch stalled = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger busy = new AtomicInteger();
    volatile String retryAfter = "1";
    final List<Seen> seen = new CopyOnWriteArrayList<>();

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();

    RangeServer(byte[] body) throws IOException {
        this.body = body.clone();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    /** Body bytes sent by all responses to /data. */
    long sentOfData() {
        return seen.stream()
                .filter(s -> s.path().equals("/data"))
                .mapToLong(Seen::sent)
                .sum();
    }

    List<Seen> dataRequests() {
        return seen.stream().filter(s -> s.path().equals("/data")).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String host = exchange.getRequestHeaders().getFirst("Host");
        String range = exchange.getRequestHeaders().getFirst("Range");
        String ifRange = exchange.getRequestHeaders().getFirst("If-Range");
        String auth = exchange.getRequestHeaders().getFirst("Authorization");
        int[] status = {0};
        long[] sent = {0};
        boolean[] noted = {false};
        // noted before the response completes, so a client that has its answer finds the request recorded
        Runnable note = () -> {
            if (!noted[0]) {
                noted[0] = true;
                seen.add(new Seen(path, host, range, ifRange, auth, status[0], sent[0]));
            }
        };
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            if (path.startsWith("/r/")) {
                int n = Integer.parseInt(path.substring(3));
                redirect(exchange, status, n <= 1 ? "/data" : "/r/" + (n - 1), note);
            } else {
                switch (path) {
                    case "/loop" -> redirect(exchange, status, "/loop", note);
                    case "/to-localhost" -> redirect(exchange, status, "http://localhost:" + port() + "/data", note);
                    case "/busy" -> {
                        if (busy.getAndDecrement() > 0) {
                            exchange.getResponseHeaders().set("Retry-After", retryAfter);
                            status[0] = 429;
                            note.run();
                            exchange.sendResponseHeaders(429, -1);
                        } else {
                            data(exchange, status, sent, null, null, note);
                        }
                    }
                    case "/data" -> data(exchange, status, sent, range, ifRange, note);
                    case "/chunked" -> {
                        status[0] = 200;
                        exchange.sendResponseHeaders(200, 0); // no length: chunked transfer encoding
                        OutputStream out = exchange.getResponseBody();
                        byte[] content = body;
                        for (int at = 0; at < content.length; at += 7777) {
                            out.write(content, at, Math.min(7777, content.length - at));
                            out.flush();
                        }
                        sent[0] = content.length;
                        note.run();
                        out.close();
                    }
                    case "/error" -> {
                        status[0] = 500;
                        note.run();
                        exchange.sendResponseHeaders(500, -1);
                    }
                    default -> {
                        status[0] = 404;
                        note.run();
                        exchange.sendResponseHeaders(404, -1);
                    }
                }
            }
        } catch (IOException e) {
            // the client hung up, or the cut dropped the connection
        } finally {
            note.run();
        }
    }

    private static void redirect(HttpExchange exchange, int[] status, String to, Runnable note) throws IOException {
        exchange.getResponseHeaders().set("Location", to);
        status[0] = 302;
        note.run();
        exchange.sendResponseHeaders(302, -1);
    }

    private void data(HttpExchange exchange, int[] status, long[] sentOut, String range, String ifRange, Runnable note)
            throws IOException {
        byte[] content = body;
        String tag = etag;
        if (tag != null) {
            exchange.getResponseHeaders().set("ETag", tag);
        }
        if (lastModified != null) {
            exchange.getResponseHeaders().set("Last-Modified", lastModified);
        }
        if (ranges) {
            exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
        }
        long from = 0;
        Matcher m = range == null ? null : RANGE.matcher(range);
        boolean partial = ranges && m != null && m.matches();
        if (partial && !ignoreIfRange && ifRange != null) {
            partial = ifRange.equals(tag) || ifRange.equals(lastModified);
        }
        if (partial) {
            from = Long.parseLong(m.group(1));
            if (from >= content.length) {
                status[0] = 416;
                exchange.getResponseHeaders().set("Content-Range", "bytes */" + content.length);
                note.run();
                exchange.sendResponseHeaders(416, -1);
                return;
            }
            exchange.getResponseHeaders()
                    .set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
            status[0] = 206;
        } else {
            status[0] = 200;
        }
        int length = (int) (content.length - from);
        exchange.sendResponseHeaders(status[0], length);
        OutputStream out = exchange.getResponseBody();
        long cut = cutNextAt.getAndSet(-1);
        long stall = stallNextAt.getAndSet(-1);
        long stop = cut >= 0 ? cut : stall >= 0 ? stall : length;
        long end = Math.min(stop, length);
        boolean whole = end == length;
        long sent = 0;
        int chunk = 64 * 1024;
        while (sent < end) {
            // the last byte of a whole body waits until the request is noted
            int n = (int) Math.min(chunk, end - sent - (whole ? 1 : 0));
            if (n == 0) {
                break;
            }
            out.write(content, (int) (from + sent), n);
            sent += n;
        }
        if (whole && length > 0) {
            sentOut[0] = length;
            note.run();
            out.write(content, (int) (from + sent), 1);
            sent++;
        }
        sentOut[0] = sent;
        out.flush();
        note.run();
        if (stall >= 0) {
            stalled.countDown();
            try {
                release.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (cut < 0 && stall < 0) {
            out.close();
        }
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
