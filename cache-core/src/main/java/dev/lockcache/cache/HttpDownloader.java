package dev.lockcache.cache;

import dev.lockcache.lock.Ticker;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Downloads one URI into a file with the JDK {@link HttpClient}, enforcing connect, idle and total timeouts of
 * its own: the client's request timeout stops at the headers and does not cover a stalled body (JDK-8208693).
 * The body is written by a subscriber that the waiting thread can shut at any moment; after that, nothing more
 * is written to the file. A body shorter than its {@code Content-Length} or a status other than 2xx is an error.
 */
final class HttpDownloader {

    private final HttpTimeouts timeouts;
    private final Ticker ticker;
    private HttpClient client; // guarded by this; made on first use, it takes a while to start

    HttpDownloader(HttpTimeouts timeouts, Ticker ticker) {
        this.timeouts = timeouts;
        this.ticker = ticker;
    }

    private synchronized HttpClient client() {
        if (client == null) {
            client = HttpClient.newBuilder()
                    .connectTimeout(timeouts.connect())
                    .followRedirects(HttpClient.Redirect.NORMAL)
                    .build();
        }
        return client;
    }

    /**
     * Downloads {@code uri} into {@code out} (a new, empty file), reading at most one byte more than {@code
     * expected}: a body announced or found larger is a {@link SourceTooLargeException}.
     */
    void download(URI uri, FileChannel out, String key, OptionalLong expected, ProgressListener progress)
            throws IOException, InterruptedException {
        HttpClient http = client();
        long start = ticker.read();
        long totalNanos = timeouts.total().toNanos();
        long idleNanos = timeouts.idle().toNanos();
        HttpRequest request =
                HttpRequest.newBuilder(uri).timeout(timeouts.total()).GET().build();
        try (FileSink sink = new FileSink(out, uri, key, expected, progress, ticker, start)) {
            CompletableFuture<HttpResponse<Void>> response =
                    http.sendAsync(request, info -> info.statusCode() / 100 == 2 ? sink.begin(info) : sink.reject());
            HttpResponse<Void> done;
            while (true) {
                long now = ticker.read();
                long totalLeft = start + totalNanos - now;
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
                    throw cause instanceof IOException io ? io : new IOException(String.valueOf(cause), cause);
                }
            }
            if (sink.tooLarge() != null) {
                throw sink.tooLarge();
            }
            if (done.statusCode() / 100 != 2) {
                throw new IOException("HTTP status " + done.statusCode() + " from " + uri);
            }
            OptionalLong announced = sink.announced();
            if (announced.isPresent() && announced.getAsLong() != sink.bytes()) {
                throw new IOException("truncated body from " + uri + ": " + sink.bytes() + " of "
                        + announced.getAsLong() + " announced bytes");
            }
        }
    }

    /**
     * Writes body parts to the channel until shut or past the expected size; shutting is final and waits for a
     * write in progress (the channel belongs to the caller, who closes it).
     */
    private static final class FileSink implements HttpResponse.BodySubscriber<Void>, AutoCloseable {
        private final FileChannel out;
        private final URI uri;
        private final OptionalLong expected;
        private final long limit;
        private volatile SourceTooLargeException tooLarge;
        private final String key;
        private final ProgressListener progress;
        private final Ticker ticker;
        private final CompletableFuture<Void> result = new CompletableFuture<>();
        private final Object lock = new Object();
        private volatile long lastActivity;
        private volatile long bytes;
        private volatile OptionalLong announced = OptionalLong.empty();
        // guarded by lock
        private boolean closed;
        private Flow.Subscription subscription;

        FileSink(
                FileChannel out,
                URI uri,
                String key,
                OptionalLong expected,
                ProgressListener progress,
                Ticker ticker,
                long start) {
            this.out = out;
            this.uri = uri;
            this.expected = expected;
            this.limit = expected.isPresent() ? expected.getAsLong() + 1 : Long.MAX_VALUE;
            this.key = key;
            this.progress = progress;
            this.ticker = ticker;
            this.lastActivity = start;
        }

        HttpResponse.BodySubscriber<Void> begin(HttpResponse.ResponseInfo info) {
            lastActivity = ticker.read();
            announced = info.headers().firstValueAsLong("content-length");
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

        SourceTooLargeException tooLarge() {
            return tooLarge;
        }

        HttpResponse.BodySubscriber<Void> reject() {
            lastActivity = ticker.read();
            return HttpResponse.BodySubscribers.discarding();
        }

        long lastActivity() {
            return lastActivity;
        }

        long bytes() {
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
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            Flow.Subscription s;
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
                        while (item.hasRemaining()) {
                            bytes += out.write(item);
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
            }
            progress.onProgress(key, bytes, announced);
            s.request(1);
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            result.complete(null);
        }

        @Override
        public CompletionStage<Void> getBody() {
            return result;
        }

        @Override
        public void close() {
            synchronized (lock) {
                closed = true;
                if (subscription != null) {
                    subscription.cancel();
                }
            }
        }
    }
}
