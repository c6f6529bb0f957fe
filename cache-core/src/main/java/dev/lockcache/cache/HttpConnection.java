package dev.lockcache.cache;

import dev.lockcache.lock.Ticker;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 GET on a connection of its own ({@code Connection: close}), read by the calling thread straight
 * into the caller's buffer: no client threads, no per-chunk hand-off, TLS only for {@code https:} (the JDK's
 * default trust or the given context's, host name verified, SNI). Proxies come from a {@link ProxySelector}: an HTTP proxy gets the
 * absolute URI (plain http) or a {@code CONNECT} tunnel (https); a SOCKS proxy is used by the socket itself.
 *
 * <p>Every read waits at most the shorter of the idle timeout and what is left of the total one, so a stalled
 * peer (before the headers or in the body) ends as an {@link HttpTimeoutException} that says which limit passed.
 * Reads through a socket channel are interruptible (the connection is closed and a {@code
 * ClosedByInterruptException} thrown). The head is bounded ({@value #MAX_HEAD} bytes); the body is framed by
 * {@code Content-Length}, chunked encoding or the end of the connection, and a body that ends short of its
 * framing is an error. Not thread-safe.
 */
final class HttpConnection implements AutoCloseable {

    static final int MAX_HEAD = 64 * 1024;
    private static final int MAX_HEADERS = 200;

    /**
     * A response's status line and headers.
     *
     * @param headers first value per header name, names in lower case
     */
    record Head(int status, Map<String, String> headers) {
        Optional<String> header(String name) {
            return Optional.ofNullable(headers.get(name));
        }

        OptionalLong length(String name) {
            String v = headers.get(name);
            if (v == null) {
                return OptionalLong.empty();
            }
            try {
                long n = Long.parseLong(v.strip());
                return n < 0 ? OptionalLong.empty() : OptionalLong.of(n);
            } catch (NumberFormatException e) {
                return OptionalLong.empty();
            }
        }
    }

    private final URI uri;
    private final Socket socket;
    private final InputStream in;
    private final Ticker ticker;
    private final long deadline;
    private final Duration idle;
    private final Duration total;
    private final byte[] line = new byte[8192];
    private long received;
    // body framing
    private long remaining = -1; // bytes left in a Content-Length body or the current chunk; -1 when unknown
    private boolean chunked;
    private boolean done;
    private long lastActivity;

    private HttpConnection(
            URI uri, Socket socket, InputStream in, Ticker ticker, long deadline, Duration idle, Duration total) {
        this.uri = uri;
        this.socket = socket;
        this.in = in;
        this.ticker = ticker;
        this.deadline = deadline;
        this.idle = idle;
        this.total = total;
        this.lastActivity = ticker.read();
    }

    /**
     * Connects to {@code uri}'s host (or the proxy {@code proxies} names for it) and sends a GET with {@code
     * headers}.
     */
    static HttpConnection get(
            URI uri,
            Map<String, String> headers,
            ProxySelector proxies,
            SSLContext tls,
            HttpTimeouts timeouts,
            Ticker ticker,
            long deadline)
            throws IOException {
        boolean https = uri.getScheme().equalsIgnoreCase("https");
        String host = uri.getHost();
        if (host == null) {
            throw new IOException("no host in " + uri);
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
        Proxy proxy = choose(proxies, uri);
        Socket socket;
        boolean viaHttpProxy = proxy.type() == Proxy.Type.HTTP;
        InetSocketAddress target = viaHttpProxy
                ? resolved((InetSocketAddress) proxy.address())
                : proxy.type() == Proxy.Type.SOCKS
                        ? InetSocketAddress.createUnresolved(host, port)
                        : new InetSocketAddress(host, port);
        if (proxy.type() == Proxy.Type.SOCKS) {
            socket = new Socket(proxy);
        } else {
            socket = SocketChannel.open().socket(); // blocking, and interruptible through its channel
        }
        HttpConnection c = null;
        try {
            socket.setTcpNoDelay(true);
            socket.connect(target, (int) Math.max(1, Math.min(timeouts.connect().toMillis(), Integer.MAX_VALUE)));
            Socket stream = socket;
            String authority = host.contains(":") ? "[" + host + "]" : host;
            String hostHeader = uri.getPort() >= 0 ? authority + ":" + port : authority;
            if (viaHttpProxy && https) {
                tunnel(socket, authority + ":" + port, timeouts, ticker, deadline, uri);
            }
            if (https) {
                SSLSocketFactory factory =
                        tls != null ? tls.getSocketFactory() : (SSLSocketFactory) SSLSocketFactory.getDefault();
                SSLSocket secure = (SSLSocket) factory.createSocket(socket, host, port, true);
                SSLParameters p = secure.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
                if (!host.contains(":") && !host.matches("[0-9.]+")) {
                    p.setServerNames(List.of(new SNIHostName(host)));
                }
                secure.setSSLParameters(p);
                stream = secure;
            }
            String target0 = viaHttpProxy && !https ? uri.toASCIIString().replaceFirst("#.*$", "") : requestTarget(uri);
            StringBuilder request = new StringBuilder("GET ")
                    .append(target0)
                    .append(" HTTP/1.1\r\nHost: ")
                    .append(hostHeader)
                    .append(
                            "\r\nUser-Agent: lockcache\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n");
            for (Map.Entry<String, String> h : headers.entrySet()) {
                request.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
            }
            request.append("\r\n");
            c = new HttpConnection(
                    uri, stream, stream.getInputStream(), ticker, deadline, timeouts.idle(), timeouts.total());
            c.armTimeout();
            OutputStream out = new BufferedOutputStream(stream.getOutputStream(), 4096);
            out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return c;
        } catch (SocketTimeoutException e) {
            socket.close();
            throw new HttpTimeoutException(
                    "could not connect to " + uri + " within the connect timeout of " + timeouts.connect());
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private static InetSocketAddress resolved(InetSocketAddress a) {
        return a.isUnresolved() ? new InetSocketAddress(a.getHostString(), a.getPort()) : a;
    }

    private static Proxy choose(ProxySelector proxies, URI uri) {
        if (proxies == null) {
            return Proxy.NO_PROXY;
        }
        List<Proxy> list = proxies.select(uri);
        return list == null || list.isEmpty() ? Proxy.NO_PROXY : list.get(0);
    }

    private static String requestTarget(URI uri) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    }

    /** Opens a CONNECT tunnel through an HTTP proxy. */
    private static void tunnel(
            Socket socket, String authority, HttpTimeouts timeouts, Ticker ticker, long deadline, URI uri)
            throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        HttpConnection c = new HttpConnection(
                uri, socket, socket.getInputStream(), ticker, deadline, timeouts.idle(), timeouts.total());
        Head head = c.readHead();
        if (head.status() / 100 != 2) {
            throw new IOException(
                    "the proxy refused a tunnel to " + authority + " (HTTP status " + head.status() + ")");
        }
    }

    /** Reads the status line and headers (skipping 1xx interim responses). */
    Head readHead() throws IOException {
        int read = 0;
        while (true) {
            String status = readLine(read);
            read += status.length() + 2;
            String[] parts = status.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP/1.x response from " + uri + ": " + printable(status));
            }
            int code;
            try {
                code = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IOException("bad status line from " + uri + ": " + printable(status));
            }
            Map<String, String> headers = new LinkedHashMap<>();
            int count = 0;
            while (true) {
                String h = readLine(read);
                read += h.length() + 2;
                if (h.isEmpty()) {
                    break;
                }
                if (++count > MAX_HEADERS) {
                    throw new IOException("more than " + MAX_HEADERS + " headers from " + uri);
                }
                int colon = h.indexOf(':');
                if (colon > 0) {
                    headers.putIfAbsent(
                            h.substring(0, colon).strip().toLowerCase(Locale.ROOT),
                            h.substring(colon + 1).strip());
                }
            }
            if (code / 100 == 1) {
                continue; // 100 Continue and friends: the real answer follows
            }
            String te = headers.getOrDefault("transfer-encoding", "").toLowerCase(Locale.ROOT);
            chunked = te.contains("chunked");
            Head head = new Head(code, headers);
            if (!chunked) {
                remaining = head.length("content-length").orElse(-1);
            } else {
                remaining = 0;
            }
            done = code == 204 || code == 304 || (!chunked && remaining == 0);
            return head;
        }
    }

    /**
     * Reads body bytes into {@code buf}: the count, or {@code -1} at the end of the body.
     *
     * @throws EOFException when the connection ends short of the body's framing
     */
    int readBody(byte[] buf, int off, int len) throws IOException {
        if (done) {
            return -1;
        }
        if (chunked && remaining == 0) {
            remaining = nextChunk();
            if (remaining == 0) {
                while (!readLine(0).isEmpty()) {
                    // trailers
                }
                done = true;
                return -1;
            }
        }
        int want = remaining >= 0 ? (int) Math.min(len, remaining) : len;
        int n = read(buf, off, want);
        if (n < 0) {
            if (remaining < 0 && !chunked) {
                done = true; // framed by the end of the connection
                return -1;
            }
            throw new EOFException("the connection ended " + remaining + " bytes short");
        }
        if (remaining >= 0) {
            remaining -= n;
            if (remaining == 0) {
                if (chunked) {
                    readLine(0); // CRLF after the chunk
                } else {
                    done = true;
                }
            }
        }
        return n;
    }

    /** Total bytes read from the connection (head and body). */
    long received() {
        return received;
    }

    private long nextChunk() throws IOException {
        String size = readLine(0);
        int semi = size.indexOf(';');
        try {
            long n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).strip(), 16);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IOException("bad chunk size from " + uri + ": " + printable(size));
        }
    }

    private String readLine(int already) throws IOException {
        int n = 0;
        while (true) {
            int b = readByte();
            if (b < 0) {
                throw new EOFException("the connection to " + uri + " ended inside the response head");
            }
            if (b == '\n') {
                int end = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
                return new String(line, 0, end, StandardCharsets.ISO_8859_1);
            }
            if (n == line.length || already + n >= MAX_HEAD) {
                throw new IOException("a response head line from " + uri + " is longer than " + line.length
                        + " bytes, or the head longer than " + MAX_HEAD);
            }
            line[n++] = (byte) b;
        }
    }

    // a small read-ahead for the head and chunk lines, so that they do not cost one syscall a byte
    private final byte[] ahead = new byte[16 * 1024];
    private int aheadPos;
    private int aheadLen;

    private int readByte() throws IOException {
        if (aheadPos == aheadLen) {
            int n = rawRead(ahead, 0, ahead.length);
            if (n < 0) {
                return -1;
            }
            aheadPos = 0;
            aheadLen = n;
        }
        return ahead[aheadPos++] & 0xff;
    }

    private int read(byte[] buf, int off, int len) throws IOException {
        if (aheadPos < aheadLen) {
            int n = Math.min(len, aheadLen - aheadPos);
            System.arraycopy(ahead, aheadPos, buf, off, n);
            aheadPos += n;
            return n;
        }
        return rawRead(buf, off, len);
    }

    private int rawRead(byte[] buf, int off, int len) throws IOException {
        while (true) {
            armTimeout();
            try {
                int n = in.read(buf, off, len);
                if (n > 0) {
                    received += n;
                    lastActivity = ticker.read();
                }
                return n;
            } catch (SocketTimeoutException e) {
                long now = ticker.read();
                if (now - deadline >= 0) {
                    throw new HttpTimeoutException("no complete response from " + uri + " within the total timeout of "
                            + total + " (" + received + " bytes received)");
                }
                if (now - lastActivity >= idle.toNanos()) {
                    throw new HttpTimeoutException("no data from " + uri + " for the idle timeout of " + idle + " ("
                            + received + " bytes received)");
                }
                // woke early (the total deadline was nearer than the idle one, or a coarse timer): wait again
            }
        }
    }

    private void armTimeout() throws IOException {
        long now = ticker.read();
        long left = Math.min(lastActivity + idle.toNanos() - now, deadline - now);
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000));
        socket.setSoTimeout(millis);
    }

    private static String printable(String s) {
        String cut = s.length() > 200 ? s.substring(0, 200) + "…" : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing was left to send
        }
    }
}
