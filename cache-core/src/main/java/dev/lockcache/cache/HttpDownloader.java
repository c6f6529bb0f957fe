package dev.lockcache.cache;

import dev.lockcache.lock.Ticker;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ProxySelector;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * Downloads one URI into a {@link PartialDownload}, hashing the bytes as they stream by, in the calling thread
 * through an {@link HttpTransport} (Apache HttpClient 5, built on the first download): a blocking read into a
 * {@value #WRITE_BUFFER}-byte buffer that is hashed and written at once, no client threads and no per-chunk
 * hand-off. The connect, idle and total timeouts are the cache's own ({@link HttpTransport} enforces them).
 *
 * <p>What it does as users meet HTTP: follows up to {@value #MAX_REDIRECTS} redirects itself (so that an {@code
 * Authorization} header is dropped, never carried, when one leads to another host or from https to http; the
 * client's own redirect handling is off); honours {@code Retry-After} on 429 and 503 while the total timeout
 * allows; routes through {@link ProxySelector#getDefault()} unless given another (the {@code
 * http.proxyHost}/{@code https.proxyHost}/{@code http.nonProxyHosts} properties, or {@code
 * java.net.useSystemProxies}). It resumes kept bytes with {@code Range} + {@code If-Range}: a 206 is believed only
 * when its {@code Content-Range} starts where the kept bytes end and its validator is the one sent (a server that
 * ignores {@code If-Range} and has a new version is caught here); a 200 starts over; nothing of two versions is
 * ever spliced. A body shorter than its length, or a status other than 2xx after redirects and retries, is an
 * error that names the URI and never the authorization.
 */
final class HttpDownloader implements AutoCloseable {

    static final int MAX_REDIRECTS = 10;
    static final int MAX_RETRIES = 5;
    /** Bytes gathered before one write: few syscalls, and little lost to a kill -9 (a resume re-fetches it). */
    static final int WRITE_BUFFER = 256 * 1024;

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final HttpTimeouts timeouts;
    private final Ticker ticker;
    private final HttpAuthorization authorization;
    private final ProxySelector proxies;
    private final SSLContext tls; // null: the JDK default, made on first https use
    private volatile HttpTransport transport; // built on the first download
    private boolean closed;

    HttpDownloader(
            HttpTimeouts timeouts,
            Ticker ticker,
            HttpAuthorization authorization,
            ProxySelector proxies,
            SSLContext tls) {
        this.timeouts = timeouts;
        this.ticker = ticker;
        this.authorization = authorization;
        this.proxies = proxies;
        this.tls = tls;
    }

    /** The proxies asked for every request. */
    ProxySelector proxies() {
        return proxies;
    }

    private HttpTransport transport() {
        HttpTransport t = transport;
        if (t != null) {
            return t;
        }
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the cache's HTTP client is closed");
            }
            if (transport == null) {
                transport = new HttpTransport(timeouts, proxies, tls);
            }
            return transport;
        }
    }

    /** Closes the HTTP client, if one was built; a download after this fails. */
    @Override
    public synchronized void close() {
        closed = true;
        if (transport != null) {
            transport.close();
            transport = null;
        }
    }

    /**
     * Downloads {@code uri} into {@code partial}, continuing after its kept bytes where the server allows, reading
     * at most one byte more than {@code expected} in all: a body announced or found larger is a {@link
     * SourceTooLargeException}.
     *
     * @return the digest of the whole file (kept bytes included)
     */
    Digest download(URI uri, PartialDownload partial, String key, OptionalLong expected, ProgressListener progress)
            throws IOException, InterruptedException {
        long start = ticker.read();
        long deadline = start + timeouts.total().toNanos();
        URI current = uri;
        int redirects = 0;
        int retries = 0;
        boolean resume = partial.kept() > 0 && partial.validator().isPresent();
        boolean authorized = true;
        while (true) {
            if (!resume && partial.kept() > 0) {
                partial.restart();
            }
            Attempt a = attempt(current, authorized, resume, partial, key, expected, progress, deadline);
            switch (a.outcome) {
                case DONE -> {
                    return a.digest;
                }
                case REDIRECT -> {
                    if (++redirects > MAX_REDIRECTS) {
                        throw new IOException("more than " + MAX_REDIRECTS + " redirects from " + uri + " (the last to "
                                + a.location + "); check the source URI");
                    }
                    URI next;
                    try {
                        next = current.resolve(a.location.strip());
                    } catch (IllegalArgumentException e) {
                        throw new IOException(current + " redirects to a malformed location", e);
                    }
                    String scheme =
                            next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
                    if (!scheme.equals("http") && !scheme.equals("https")) {
                        throw new IOException(current + " redirects to " + next + ", which is not http: or https:");
                    }
                    authorized = authorized && HttpAuthorization.keepsAcross(current, next);
                    current = next;
                }
                case RETRY -> {
                    long now = ticker.read();
                    if (++retries > MAX_RETRIES || now + a.retryAfter.toNanos() - deadline > 0) {
                        throw new IOException("HTTP status " + a.status + " from " + current
                                + (retries > MAX_RETRIES
                                        ? " after " + MAX_RETRIES + " retries"
                                        : "; it asks to retry after " + a.retryAfter.toSeconds()
                                                + " s, beyond the total timeout of " + timeouts.total())
                                + "; try again later");
                    }
                    TimeUnit.NANOSECONDS.sleep(a.retryAfter.toNanos());
                }
                case RESTART -> {
                    if (!resume) {
                        throw new IOException("a partial response (206) from " + current + " to a request for the whole"
                                + " file; the server's range support is broken");
                    }
                    resume = false; // the kept bytes are of another version, or the server cannot say: start over
                }
                default -> throw new IllegalStateException("unknown outcome " + a.outcome);
            }
        }
    }

    private enum Outcome {
        DONE,
        REDIRECT,
        RETRY,
        RESTART
    }

    private record Attempt(Outcome outcome, Digest digest, String location, int status, Duration retryAfter) {}

    private Attempt attempt(
            URI uri,
            boolean authorized,
            boolean resume,
            PartialDownload partial,
            String key,
            OptionalLong expected,
            ProgressListener progress,
            long deadline)
            throws IOException, InterruptedException {
        Map<String, String> headers = new LinkedHashMap<>();
        if (authorized) {
            authorization.valueFor(uri).ifPresent(v -> headers.put("Authorization", v));
        }
        if (resume) {
            headers.put("Range", "bytes=" + partial.kept() + "-");
            headers.put("If-Range", partial.validator().get());
        }
        try (HttpTransport.Exchange head = transport().get(uri, headers, deadline - ticker.read())) {
            int status = head.status();
            if (status / 100 == 3 && head.header("location").isPresent()) {
                return new Attempt(
                        Outcome.REDIRECT, null, head.header("location").get(), status, Duration.ZERO);
            }
            if ((status == 429 || status == 503) && retryAfter(head).isPresent()) {
                return new Attempt(
                        Outcome.RETRY, null, "", status, retryAfter(head).get());
            }
            if (status == 416 && resume) {
                return new Attempt(Outcome.RESTART, null, "", status, Duration.ZERO); // the kept bytes do not fit it
            }
            if (status / 100 != 2) {
                throw new IOException("HTTP status " + status + " from " + uri);
            }
            OptionalLong length = head.length("content-length");
            String validator = validator(head);
            Digest.Running digest = new Digest.Running();
            long offset;
            OptionalLong announced;
            if (status == 206) {
                if (!resume || !continuesKept(head, validator, partial)) {
                    return new Attempt(Outcome.RESTART, null, "", status, Duration.ZERO);
                }
                offset = partial.kept();
                partial.hashKept(digest);
                announced = length.isPresent() ? OptionalLong.of(offset + length.getAsLong()) : length;
            } else {
                if (partial.kept() > 0) {
                    partial.restart(); // a whole body: the server ignored Range, or the version changed
                }
                offset = 0;
                announced = length;
                partial.describe(validator, length.orElse(-1));
            }
            if (expected.isPresent() && announced.isPresent() && announced.getAsLong() > expected.getAsLong()) {
                throw new SourceTooLargeException(
                        uri + " (Content-Length " + announced.getAsLong() + ")", expected.getAsLong());
            }
            long limit = expected.isPresent() ? expected.getAsLong() + 1 : Long.MAX_VALUE;
            long written;
            try {
                written = body(head, partial.channel(), offset, limit, digest, key, announced, progress);
            } catch (EOFException e) {
                throw new IOException(
                        "truncated body from " + uri + ": " + partial.channel().size() + " of "
                                + (announced.isPresent() ? announced.getAsLong() + " announced" : "the chunked")
                                + " bytes",
                        e);
            }
            if (written >= limit) {
                throw new SourceTooLargeException(uri.toString(), expected.getAsLong());
            }
            if (announced.isPresent() && announced.getAsLong() != written) {
                throw new IOException("truncated body from " + uri + ": " + written + " of " + announced.getAsLong()
                        + " announced bytes");
            }
            return new Attempt(Outcome.DONE, digest.result(), "", status, Duration.ZERO);
        }
    }

    /**
     * Streams the body into {@code out} from {@code offset}, hashing as it goes, until its end or {@code limit}
     * bytes in the file; what arrived is written before any failure is passed on, so a resume keeps it.
     *
     * @return the file's length after the body
     */
    private static long body(
            HttpTransport.Exchange c,
            FileChannel out,
            long offset,
            long limit,
            Digest.Running digest,
            String key,
            OptionalLong announced,
            ProgressListener progress)
            throws IOException {
        byte[] buf = new byte[WRITE_BUFFER];
        ByteBuffer wrapped = ByteBuffer.wrap(buf);
        long at = offset;
        int filled = 0;
        try {
            while (true) {
                int room = (int) Math.min(buf.length - filled, limit - at - filled);
                if (room == 0 && filled < buf.length) {
                    break; // one byte past the expected size: the caller says so
                }
                int n = room == 0 ? 0 : c.read(buf, filled, room);
                if (n < 0) {
                    break;
                }
                filled += n;
                if (filled == buf.length) {
                    at = write(out, wrapped, filled, at, digest);
                    filled = 0;
                    progress.onProgress(key, at, announced);
                }
                if (Thread.interrupted()) {
                    throw new InterruptedIOException("interrupted after " + (at + filled) + " bytes");
                }
            }
        } finally {
            if (filled > 0) {
                at = write(out, wrapped, filled, at, digest); // kept for a resume even when the read failed
            }
        }
        progress.onProgress(key, at, announced);
        return at;
    }

    private static long write(FileChannel out, ByteBuffer wrapped, int filled, long at, Digest.Running digest)
            throws IOException {
        wrapped.clear().limit(filled);
        digest.update(wrapped.duplicate());
        while (wrapped.hasRemaining()) {
            at += out.write(wrapped, at);
        }
        return at;
    }

    /** Whether a 206's Content-Range starts at the kept length, of the kept version, with the validator sent. */
    private static boolean continuesKept(HttpTransport.Exchange head, String validator, PartialDownload partial) {
        Matcher m = CONTENT_RANGE.matcher(head.header("content-range").orElse(""));
        if (!m.matches() || Long.parseLong(m.group(1)) != partial.kept()) {
            return false;
        }
        long total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
        if (partial.recordedTotal() >= 0 && total != partial.recordedTotal()) {
            return false;
        }
        // a server that ignores If-Range answers a changed resource with 206 too: its validator tells
        return validator.equals(partial.validator().orElse(null));
    }

    /** The wait a 429 or 503 asks for ({@code Retry-After}: seconds or an HTTP date), when it asks for one. */
    static Optional<Duration> retryAfter(HttpTransport.Exchange head) {
        Optional<String> value = head.header("retry-after").map(String::strip);
        if (value.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(value.get()))));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(value.get(), DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (DateTimeParseException e2) {
                return Optional.empty();
            }
        }
    }

    /** The validator to resume under: a strong ETag, else Last-Modified; {@code ""} when there is neither. */
    static String validator(HttpTransport.Exchange head) {
        Optional<String> etag = head.header("etag").map(String::strip);
        if (etag.isPresent() && !etag.get().startsWith("W/") && !etag.get().isEmpty()) {
            return etag.get(); // a weak one cannot be sent in If-Range
        }
        return head.header("last-modified").map(String::strip).orElse("");
    }
}
