package dev.lockcache.cache;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.HttpRoute;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.DefaultSchemePortResolver;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.DefaultManagedHttpClientConnection;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.routing.SystemDefaultRoutePlanner;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.impl.io.SocketHolder;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The cache's HTTP client: Apache HttpClient 5 (classic, blocking), read by the calling thread straight into the
 * caller's buffer, built on the first download and closed with its {@link SourceFetcher}. It follows no redirect
 * and retries nothing itself ({@link HttpDownloader} does both, so that an {@code Authorization} header is
 * dropped, not carried, across hosts), asks for no compression, keeps no cookies and authenticates nothing.
 *
 * <p><b>Start-up.</b> TLS is set up on the first {@code https:} connection, never for plain {@code http:} (the JDK
 * default context, or the one given). Sockets are those of a {@link SocketChannel}, so an interrupt closes the
 * connection at once ({@code ClosedByInterruptException}). Proxies come from the {@link ProxySelector}: an HTTP
 * proxy through HttpClient's {@link SystemDefaultRoutePlanner} (absolute URI, or a {@code CONNECT} tunnel for
 * https), a SOCKS proxy through a plain socket that speaks to it.
 *
 * <p><b>Timeouts</b> (all on the monotonic clock): connect; idle as the socket timeout of every read, the response
 * head included; total as a deadline at which a timer cancels the exchange (its socket is closed under the
 * reading thread). Every failure is translated into an {@link IOException} that says which limit passed; none of
 * them is an {@link InterruptedIOException} unless the thread really was interrupted.
 *
 * <p><b>Secrets.</b> HttpClient's header and wire logs ({@code org.apache.hc.client5.http.headers}, {@code
 * .wire}) would print the {@code Authorization} header when a user turns debug logging on; the connections made
 * here never write either log, whatever the logging configuration, and no error message carries a request
 * header. Thread-safe.
 */
final class HttpTransport implements AutoCloseable {

    private static final AtomicLong CONNECTIONS = new AtomicLong();

    private final HttpTimeouts timeouts;
    private final CloseableHttpClient client;
    private final ScheduledExecutorService deadlines;
    private final LazyTls lazyTls;

    HttpTransport(HttpTimeouts timeouts, ProxySelector proxies, SSLContext tls) {
        this.timeouts = timeouts;
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "lockcache-http-deadline");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        this.deadlines = timer;
        this.lazyTls = new LazyTls(tls);
        PoolingHttpClientConnectionManager connections = new PoolingHttpClientConnectionManager(
                new DefaultHttpClientConnectionOperator(
                        HttpTransport::socket,
                        DefaultSchemePortResolver.INSTANCE,
                        SystemDefaultDnsResolver.INSTANCE,
                        RegistryBuilder.<TlsSocketStrategy>create()
                                .register(URIScheme.HTTPS.id, lazyTls)
                                .build()),
                PoolConcurrencyPolicy.STRICT,
                PoolReusePolicy.LIFO,
                TimeValue.NEG_ONE_MILLISECOND,
                socket -> {
                    QuietConnection c = new QuietConnection("lockcache-http-" + CONNECTIONS.incrementAndGet());
                    if (socket != null) {
                        c.bind(socket);
                    }
                    return c;
                });
        connections.setMaxTotal(64);
        connections.setDefaultMaxPerRoute(64);
        SocketConfig direct = SocketConfig.custom()
                .setTcpNoDelay(true)
                .setSoTimeout(timeout(timeouts.idle().toMillis()))
                .build();
        // HttpClient's route planner knows HTTP proxies only: a SOCKS proxy the selector names goes to the socket
        connections.setSocketConfigResolver(route -> socks(proxies, route)
                .map(address ->
                        SocketConfig.copy(direct).setSocksProxyAddress(address).build())
                .orElse(direct));
        connections.setDefaultConnectionConfig(ConnectionConfig.custom()
                .setConnectTimeout(timeout(timeouts.connect().toMillis()))
                .setSocketTimeout(timeout(timeouts.idle().toMillis()))
                .build());
        this.client = HttpClients.custom()
                .setConnectionManager(connections)
                .setRoutePlanner(new SystemDefaultRoutePlanner(proxies))
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(timeout(timeouts.connect().toMillis()))
                        .setResponseTimeout(timeout(timeouts.idle().toMillis()))
                        .setRedirectsEnabled(false)
                        .setAuthenticationEnabled(false)
                        .setContentCompressionEnabled(false)
                        .setExpectContinueEnabled(false)
                        .setProtocolUpgradeEnabled(false)
                        .build())
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .disableContentCompression()
                .disableCookieManagement()
                .disableAuthCaching()
                .setUserAgent("lockcache")
                .build();
    }

    private static Timeout timeout(long millis) {
        return Timeout.ofMilliseconds(Math.max(1, millis));
    }

    /** The SOCKS proxy {@code proxies} names first for a direct route's target, if it names one. */
    private static Optional<SocketAddress> socks(ProxySelector proxies, HttpRoute route) {
        if (route.getProxyHost() != null || proxies == null) {
            return Optional.empty();
        }
        HttpHost target = route.getTargetHost();
        List<Proxy> list;
        try {
            list = proxies.select(
                    new URI(target.getSchemeName(), null, target.getHostName(), target.getPort(), null, null, null));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return Optional.empty();
        }
        if (list == null || list.isEmpty() || list.get(0).type() != Proxy.Type.SOCKS) {
            return Optional.empty();
        }
        return Optional.ofNullable(list.get(0).address());
    }

    /** A blocking, interruptible socket; a plain one only where a SOCKS proxy must be spoken to. */
    private static Socket socket(Proxy socks) throws IOException {
        return socks != null ? new Socket(socks) : SocketChannel.open().socket();
    }

    /**
     * Sends a GET for {@code uri} with {@code headers} (and {@code Accept-Encoding: identity}) and waits for the
     * response head; the exchange is cancelled {@code leftNanos} from now (what is left of the total timeout)
     * wherever it is.
     */
    Exchange get(URI uri, Map<String, String> headers, long leftNanos) throws IOException {
        HttpGet request = new HttpGet(uri);
        request.setHeader("Accept-Encoding", "identity");
        headers.forEach(request::setHeader);
        Exchange exchange = new Exchange(uri, request);
        long left = leftNanos;
        if (left <= 0) {
            exchange.expired.set(true);
            throw exchange.translate(new SocketTimeoutException("deadline passed"));
        }
        exchange.timer = deadlines.schedule(exchange::expire, left, TimeUnit.NANOSECONDS);
        try {
            exchange.response = client.executeOpen(null, request, (HttpContext) null);
            HttpEntity entity = exchange.response.getEntity();
            exchange.body = entity == null ? InputStream.nullInputStream() : entity.getContent();
            return exchange;
        } catch (IOException e) {
            IOException translated = exchange.translate(e);
            exchange.close();
            throw translated;
        } catch (RuntimeException e) {
            exchange.close();
            throw e;
        }
    }

    /** Whether TLS was set up (by a first https connection). */
    boolean tlsStarted() {
        return lazyTls.strategy != null;
    }

    @Override
    public void close() {
        deadlines.shutdownNow();
        client.close(CloseMode.IMMEDIATE);
    }

    /** One request and its response, read by one thread; closed cleanly after the whole body, else cancelled. */
    final class Exchange implements AutoCloseable {
        private final URI uri;
        private final HttpGet request;
        private final AtomicBoolean expired = new AtomicBoolean();
        private ScheduledFuture<?> timer;
        private ClassicHttpResponse response;
        private InputStream body;
        private boolean complete;
        private long received;

        private Exchange(URI uri, HttpGet request) {
            this.uri = uri;
            this.request = request;
        }

        int status() {
            return response.getCode();
        }

        /** The first value of header {@code name}, trimmed. */
        Optional<String> header(String name) {
            Header h = response.getFirstHeader(name);
            return h == null || h.getValue() == null
                    ? Optional.empty()
                    : Optional.of(h.getValue().strip());
        }

        /** A non-negative length header. */
        OptionalLong length(String name) {
            Optional<String> v = header(name);
            if (v.isEmpty()) {
                return OptionalLong.empty();
            }
            try {
                long n = Long.parseLong(v.get());
                return n < 0 ? OptionalLong.empty() : OptionalLong.of(n);
            } catch (NumberFormatException e) {
                return OptionalLong.empty();
            }
        }

        /**
         * Reads body bytes: the count, or {@code -1} at the end of the body.
         *
         * @throws EOFException when the connection ends short of the body's framing
         */
        int read(byte[] buf, int off, int len) throws IOException {
            try {
                int n = body.read(buf, off, len);
                if (n < 0) {
                    complete = true;
                } else {
                    received += n;
                }
                return n;
            } catch (ConnectionClosedException e) {
                if (expired.get() || Thread.currentThread().isInterrupted()) {
                    throw translate(e);
                }
                EOFException eof = new EOFException("the connection ended short of the body: " + e.getMessage());
                eof.initCause(e);
                throw eof;
            } catch (IOException e) {
                throw translate(e);
            }
        }

        private void expire() {
            expired.set(true);
            request.cancel(); // closes the socket under a blocked read
        }

        /** What {@code e} means for this exchange, in words that name the URI and the limit, never a header. */
        IOException translate(IOException e) {
            if (e instanceof ClosedByInterruptException) {
                return e;
            }
            if (Thread.currentThread().isInterrupted()) {
                InterruptedIOException i = new InterruptedIOException("interrupted while downloading " + uri);
                i.initCause(e);
                return i;
            }
            if (expired.get()) {
                return new IOException(
                        "no complete response from " + uri + " within the total timeout of " + timeouts.total() + " ("
                                + received + " body bytes received)",
                        e);
            }
            if (e instanceof ConnectTimeoutException) {
                return new IOException(
                        "could not connect to " + uri + " within the connect timeout of " + timeouts.connect(), e);
            }
            if (e instanceof SocketTimeoutException) {
                return new IOException(
                        "no data from " + uri + " for the idle timeout of " + timeouts.idle() + " (" + received
                                + " body bytes received)",
                        e);
            }
            if (e instanceof InterruptedIOException) {
                // HttpClient's own "request aborted" and friends: not an interrupt of the caller's thread
                return new IOException(uri + ": " + e.getMessage(), e);
            }
            return e;
        }

        @Override
        public void close() {
            if (timer != null) {
                timer.cancel(false);
            }
            if (!complete) {
                request.cancel(); // never drain the rest of a body nobody reads
            }
            if (response != null) {
                try {
                    response.close();
                } catch (IOException e) {
                    // cancelled: the connection is gone, nothing to release
                }
            }
        }
    }

    /** TLS for https connections, set up on the first one (the JDK's default context unless one was given). */
    private static final class LazyTls implements TlsSocketStrategy {
        private final SSLContext given;
        private volatile TlsSocketStrategy strategy;

        LazyTls(SSLContext given) {
            this.given = given;
        }

        @Override
        public SSLSocket upgrade(Socket socket, String target, int port, Object attachment, HttpContext context)
                throws IOException {
            TlsSocketStrategy s = strategy;
            if (s == null) {
                synchronized (this) {
                    if (strategy == null) {
                        try {
                            strategy = new DefaultClientTlsStrategy(given != null ? given : SSLContext.getDefault());
                        } catch (NoSuchAlgorithmException e) {
                            throw new IOException("no TLS available in this JVM for " + target, e);
                        }
                    }
                    s = strategy;
                }
            }
            return s.upgrade(socket, target, port, attachment, context);
        }
    }

    /**
     * A connection that never writes HttpClient's header or wire log (both would show the {@code Authorization}
     * header once debug logging is on).
     */
    private static final class QuietConnection extends DefaultManagedHttpClientConnection {
        QuietConnection(String id) {
            super(id);
        }

        @Override
        public void bind(Socket socket) throws IOException {
            bind(new SocketHolder(socket));
        }

        @Override
        public void bind(SSLSocket sslSocket, Socket socket) throws IOException {
            bind(new SocketHolder(sslSocket, socket));
        }

        @Override
        protected void onRequestSubmitted(ClassicHttpRequest request) {
            // no header log
        }

        @Override
        protected void onResponseReceived(ClassicHttpResponse response) {
            // no header log
        }
    }
}
