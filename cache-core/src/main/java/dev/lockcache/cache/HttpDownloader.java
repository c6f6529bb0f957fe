package dev.lockcache.cache;

import dev.lockcache.lock.Ticker;
import java.io.IOException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads one URI into a {@link PartialDownload} with the JDK {@link HttpClient}, hashing the bytes as they
 * stream by, and enforcing connect, idle and total timeouts of its own: the client's request timeout stops at the
 * headers and does not cover a stalled body (JDK-8208693).
 *
 * <p>What it does as users meet HTTP: follows up to {@value #MAX_REDIRECTS} redirects itself (so that an {@code
 * Authorization} header never follows one to another host); honours {@code Retry-After} on 429 and 503 while the
 * total timeout allows; uses {@link ProxySelector#getDefault()} (the {@code http.proxyHost}/{@code
 * https.proxyHost}/{@code http.nonProxyHosts} properties, or {@code java.net.useSystemProxies}). It resumes kept
 * bytes with {@code Range} + {@code If-Range}: a 206 is believed only when its {@code Content-Range} starts where
 * the kept bytes end and its validator is the one sent (a server that ignores {@code If-Range} and has a new
 * version is caught here); a 200 starts over; nothing of two versions is ever spliced.
 *
 * <p>The body is written by a subscriber in the client's thread (no hop to the waiting thread per chunk),
 * gathered into a direct buffer of {@value #WRITE_BUFFER} bytes so the file sees few large writes; the waiting thread can shut it at any
 * moment, after which nothing more is written. A body shorter than its length, or a status other than 2xx after
 * redirects and retries, is an error that names the URI and never the authorization.
 */
final class HttpDownloader {

    static final int MAX_REDIRECTS = 10;
    static final int MAX_RETRIES = 5;
    /** Bytes gathered before one write: few syscalls, and little lost to a kill -9 (a resume re-fetches it). */
    static final int WRITE_BUFFER = 256 * 1024;

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final HttpTimeouts timeouts;
    private final Ticker ticker;
    private final HttpAuthorization authorization;
    private final ProxySelector proxies;
    private HttpClient client; // guarded by this; made on first use, it takes a while to start

    HttpDownloader(HttpTimeouts timeouts, Ticker ticker, HttpAuthorization authorization, ProxySelector proxies) {
        this.timeouts = timeouts;
        this.ticker = ticker;
        this.authorization = authorization;
        this.proxies = proxies;
    }

    synchronized HttpClient client() {
        if (client == null) {
            HttpClient.Builder b = HttpClient.newBuilder()
                    .connectTimeout(timeouts.connect())
                    .followRedirects(HttpClient.Redirect.NEVER);
            if (proxies != null) {
                b.proxy(proxies);
            }
            client = b.build();
        }
        return client;
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
        HttpClient http = client();
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
            Attempt a = attempt(http, current, authorized, resume, partial, key, expected, progress, deadline);
            switch (a.outcome) {
                case DONE -> {
                    return a.digest;
                }
                case REDIRECT -> {
                    if (++redirects > MAX_REDIRECTS) {
                        throw new IOException("more than " + MAX_REDIRECTS + " redirects from " + uri + " (the last to "
                                + a.location + "); check the source URI");
                    }
                    URI next = current.resolve(a.location);
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
                    if (++retries > MAX_RETRIES || now + a.retryAfter.toNanos() > deadline) {
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
                        throw new IOException("inconsistent partial response from " + current);
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
            HttpClient http,
            URI uri,
            boolean authorized,
            boolean resume,
            PartialDownload partial,
            String key,
            OptionalLong expected,
            ProgressListener progress,
            long deadline)
            throws IOException, InterruptedException {
        long start = ticker.read();
        long idleNanos = timeouts.idle().toNanos();
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofNanos(Math.max(1, deadline - start)))
                .GET();
        if (authorized) {
            authorization.valueFor(uri).ifPresent(v -> b.header("Authorization", v));
        }
        if (resume) {
            b.header("Range", "bytes=" + partial.kept() + "-");
            b.header("If-Range", partial.validator().get());
        }
        Digest.Running digest = new Digest.Running();
        if (resume) {
            partial.hashKept(digest);
        }
        try (FileSink sink = new FileSink(partial, uri, key, expected, progress, ticker, start, digest, resume)) {
            CompletableFuture<HttpResponse<Void>> response = http.sendAsync(b.build(), sink::begin);
            HttpResponse<Void> done;
            while (true) {
                long now = ticker.read();
                long totalLeft = deadline - now;
                long idleLeft = sink.lastActivity() + idleNanos - now;
                if (totalLeft <= 0 || idleLeft <= 0) {
                    sink.close();
                    response.cancel(true);
                    throw new HttpTimeoutException(
                            totalLeft <= 0
                                    ? "no complete response from " + uri + " within the total timeout of "
                                            + timeouts.total() + " (" + sink.bytes() + " bytes received)"
                                    : "no data from " + uri + " for the idle timeout of " + timeouts.idle() + " ("
                                            + sink.bytes() + " bytes received)");
                }
                try {
                    done = response.get(Math.min(totalLeft, idleLeft), TimeUnit.NANOSECONDS);
                    break;
                } catch (TimeoutException e) {
                    // check the deadlines again
                } catch (InterruptedException e) {
                    sink.close();
                    response.cancel(true);
                    throw e;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (sink.tooLarge() != null) {
                        throw sink.tooLarge(); // the client may wrap what the subscriber failed with
                    }
                    if (sink.failure() != null) {
                        throw sink.failure();
                    }
                    throw cause instanceof IOException io ? io : new IOException(String.valueOf(cause), cause);
                }
            }
            if (sink.tooLarge() != null) {
                throw sink.tooLarge();
            }
            if (sink.failure() != null) {
                throw sink.failure();
            }
            int status = done.statusCode();
            HttpHeaders headers = done.headers();
            if (sink.outcome() == Outcome.REDIRECT) {
                return new Attempt(
                        Outcome.REDIRECT, null, headers.firstValue("location").orElseThrow(), status, Duration.ZERO);
            }
            if (sink.outcome() == Outcome.RETRY) {
                return new Attempt(
                        Outcome.RETRY, null, "", status, retryAfter(headers).orElseThrow());
            }
            if (sink.outcome() == Outcome.RESTART) {
                return new Attempt(Outcome.RESTART, null, "", status, Duration.ZERO);
            }
            if (status / 100 != 2) {
                throw new IOException("HTTP status " + status + " from " + uri);
            }
            long length = sink.fileLength();
            OptionalLong announced = sink.announced();
            if (announced.isPresent() && announced.getAsLong() != length) {
                throw new IOException("truncated body from " + uri + ": " + length + " of " + announced.getAsLong()
                        + " announced bytes");
            }
            return new Attempt(Outcome.DONE, digest.result(), "", status, Duration.ZERO);
        }
    }

    /** The wait a 429 or 503 asks for ({@code Retry-After}: seconds or an HTTP date), when it asks for one. */
    static Optional<Duration> retryAfter(HttpHeaders headers) {
        Optional<String> value = headers.firstValue("retry-after").map(String::strip);
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
    static String validator(HttpHeaders headers) {
        Optional<String> etag = headers.firstValue("etag").map(String::strip);
        if (etag.isPresent() && !etag.get().startsWith("W/") && !etag.get().isEmpty()) {
            return etag.get(); // a weak one cannot be sent in If-Range
        }
        return headers.firstValue("last-modified").map(String::strip).orElse("");
    }

    /**
     * Decides what a response is (body to keep, redirect, retry, start over) when its headers arrive, then writes
     * the body to the partial file until shut or past the expected size; shutting is final and waits for a write
     * in progress (the channel belongs to the caller, who closes it).
     */
    private static final class FileSink implements HttpResponse.BodySubscriber<Void>, AutoCloseable {
        private final PartialDownload partial;
        private final FileChannel out;
        private final URI uri;
        private final OptionalLong expected;
        private final long limit;
        private final String key;
        private final ProgressListener progress;
        private final Ticker ticker;
        private final Digest.Running digest;
        private final boolean resume;
        private final CompletableFuture<Void> result = new CompletableFuture<>();
        private final Object lock = new Object();
        private volatile SourceTooLargeException tooLarge;
        private volatile IOException failure;
        private volatile Outcome outcome = Outcome.DONE;
        private volatile long lastActivity;
        private volatile long bytes;
        private volatile OptionalLong announced = OptionalLong.empty();
        // guarded by lock
        private boolean closed;
        private Flow.Subscription subscription;
        private ByteBuffer buffer;
        private long offset;

        FileSink(
                PartialDownload partial,
                URI uri,
                String key,
                OptionalLong expected,
                ProgressListener progress,
                Ticker ticker,
                long start,
                Digest.Running digest,
                boolean resume) {
            this.partial = partial;
            this.out = partial.channel();
            this.uri = uri;
            this.expected = expected;
            this.limit = expected.isPresent() ? expected.getAsLong() + 1 : Long.MAX_VALUE;
            this.key = key;
            this.progress = progress;
            this.ticker = ticker;
            this.lastActivity = start;
            this.digest = digest;
            this.resume = resume;
        }

        HttpResponse.BodySubscriber<Void> begin(HttpResponse.ResponseInfo info) {
            lastActivity = ticker.read();
            int status = info.statusCode();
            HttpHeaders headers = info.headers();
            if (status / 100 == 3 && headers.firstValue("location").isPresent()) {
                outcome = Outcome.REDIRECT;
                return HttpResponse.BodySubscribers.discarding();
            }
            if ((status == 429 || status == 503) && retryAfter(headers).isPresent()) {
                outcome = Outcome.RETRY;
                return HttpResponse.BodySubscribers.discarding();
            }
            if (status / 100 != 2) {
                return HttpResponse.BodySubscribers.discarding();
            }
            OptionalLong length = headers.firstValueAsLong("content-length");
            String validator = validator(headers);
            try {
                if (status == 206) {
                    if (!resume || !continuesKept(headers, validator)) {
                        outcome = Outcome.RESTART;
                        return HttpResponse.BodySubscribers.discarding();
                    }
                    offset = partial.kept();
                    bytes = offset;
                    announced = length.isPresent() ? OptionalLong.of(offset + length.getAsLong()) : length;
                } else {
                    if (partial.kept() > 0) {
                        partial.restart(); // a whole body: the server ignored Range, or the version changed
                        digest.reset();
                    }
                    announced = length;
                    partial.describe(validator, length.orElse(-1));
                }
            } catch (IOException e) {
                return fail(e);
            }
            if (expected.isPresent() && announced.isPresent() && announced.getAsLong() > expected.getAsLong()) {
                tooLarge = new SourceTooLargeException(
                        uri + " (Content-Length " + announced.getAsLong() + ")", expected.getAsLong());
                synchronized (lock) {
                    closed = true; // onSubscribe cancels at once: not one byte of the body is read
                }
                result.completeExceptionally(tooLarge);
            }
            return this;
        }

        /** Whether a 206's Content-Range starts at the kept length, of the kept version, with the validator sent. */
        private boolean continuesKept(HttpHeaders headers, String validator) {
            Matcher m =
                    CONTENT_RANGE.matcher(headers.firstValue("content-range").orElse(""));
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

        private HttpResponse.BodySubscriber<Void> fail(IOException e) {
            failure = e;
            synchronized (lock) {
                closed = true;
            }
            result.completeExceptionally(e);
            return this;
        }

        SourceTooLargeException tooLarge() {
            return tooLarge;
        }

        IOException failure() {
            return failure;
        }

        Outcome outcome() {
            return outcome;
        }

        long lastActivity() {
            return lastActivity;
        }

        /** Bytes in the file so far, kept ones included. */
        long bytes() {
            return bytes;
        }

        long fileLength() {
            return bytes;
        }

        OptionalLong announced() {
            return announced;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            synchronized (lock) {
                if (closed) {
                    s.cancel();
                    return;
                }
                subscription = s;
                buffer = ByteBuffer.allocateDirect(WRITE_BUFFER);
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            Flow.Subscription s;
            boolean wrote = false;
            long written;
            synchronized (lock) {
                if (closed) {
                    return;
                }
                s = subscription;
                try {
                    for (ByteBuffer item : items) {
                        if (item.remaining() > limit - bytes) {
                            item.limit(item.position() + (int) (limit - bytes));
                        }
                        bytes += item.remaining();
                        digest.update(item.duplicate());
                        while (item.hasRemaining()) {
                            if (!buffer.hasRemaining()) {
                                flush();
                                wrote = true;
                            }
                            int n = Math.min(buffer.remaining(), item.remaining());
                            ByteBuffer slice = item.slice();
                            slice.limit(n);
                            buffer.put(slice);
                            item.position(item.position() + n);
                        }
                        if (bytes >= limit) {
                            tooLarge = new SourceTooLargeException(uri.toString(), expected.getAsLong());
                            throw tooLarge;
                        }
                    }
                } catch (IOException e) {
                    closed = true;
                    s.cancel();
                    result.completeExceptionally(e);
                    return;
                }
                lastActivity = ticker.read();
                written = offset;
            }
            if (wrote) {
                progress.onProgress(key, written, announced); // bytes in the file: what a resume would keep
            }
            s.request(1);
        }

        /** Writes the gathered bytes at their place in the file; caller holds the lock. */
        private void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                offset += out.write(buffer, offset);
            }
            buffer.clear();
        }

        @Override
        public void onError(Throwable throwable) {
            synchronized (lock) {
                if (!closed && buffer != null) {
                    try {
                        flush(); // what arrived is kept for a resume; the digest is checked before anything is
                        // published
                    } catch (IOException e) {
                        throwable.addSuppressed(e);
                    }
                }
                closed = true;
            }
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                try {
                    flush();
                } catch (IOException e) {
                    closed = true;
                    result.completeExceptionally(e);
                    return;
                }
                closed = true;
            }
            progress.onProgress(key, bytes, announced);
            result.complete(null);
        }

        @Override
        public CompletionStage<Void> getBody() {
            return result;
        }

        @Override
        public void close() {
            synchronized (lock) {
                if (!closed && buffer != null && subscription != null) {
                    try {
                        flush(); // a stall or an interrupt: keep what arrived for a resume
                    } catch (IOException e) {
                        // the kept file is only a hint; its bytes are re-hashed and verified before any use
                    }
                }
                closed = true;
                if (subscription != null) {
                    subscription.cancel();
                }
            }
        }
    }
}
