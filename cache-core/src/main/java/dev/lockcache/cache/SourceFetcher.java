package dev.lockcache.cache;

import dev.lockcache.lock.Ticker;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ProxySelector;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.OptionalLong;
import javax.net.ssl.SSLContext;

/**
 * Gets a dataset's bytes from its source: a file copy or an HTTP download into a channel the cache opened, or a
 * producer writing a path. Reading stops one byte past the spec's expected size ({@link
 * SourceTooLargeException}), so a wrong or endless source costs at most that; a file source must be a regular
 * file (a FIFO or a device could block forever or never end).
 */
final class SourceFetcher implements AutoCloseable {

    private static final int CHUNK = 1024 * 1024;

    private final HttpDownloader http;

    SourceFetcher(HttpTimeouts timeouts, Ticker ticker) {
        this(timeouts, ticker, HttpAuthorization.NONE, ProxySelector.getDefault(), null);
    }

    /** With {@code tls} for https sources ({@code null}: the JDK's default context, made on first use). */
    SourceFetcher(
            HttpTimeouts timeouts,
            Ticker ticker,
            HttpAuthorization authorization,
            ProxySelector proxies,
            SSLContext tls) {
        this.http = new HttpDownloader(timeouts, ticker, authorization, proxies, tls);
    }

    /** Closes the HTTP client, if a download built one. */
    @Override
    public void close() {
        http.close();
    }

    /** Whether bytes of {@code spec}'s source kept from an interrupted fetch may be resumed (HTTP only). */
    static boolean resumable(DatasetSpec spec) {
        return spec.source() instanceof DatasetSource.Url url && url.isHttp();
    }

    /** Lets {@code spec}'s producer write {@code target} (an existing empty file private to this fetch). */
    void produce(DatasetSpec spec, Path target) throws IOException, InterruptedException {
        ((DatasetSource.Producer) spec.source()).producer().produce(target);
    }

    /**
     * Writes the bytes of {@code spec}'s URI source into {@code partial} (after its kept bytes, where the source
     * allows resuming), hashing them as they go by.
     *
     * @return the digest of the whole file
     */
    Digest fetchInto(DatasetSpec spec, PartialDownload partial, ProgressListener progress)
            throws IOException, InterruptedException {
        if (!(spec.source() instanceof DatasetSource.Url url)) {
            throw new IllegalStateException("not a URI source: " + spec.source());
        }
        if (url.isHttp()) {
            return http.download(url.uri(), partial, spec.key(), spec.size(), progress);
        }
        if (partial.kept() > 0) {
            partial.restart();
        }
        return copyFile(Path.of(url.uri()), partial.channel(), spec.key(), spec.size(), progress);
    }

    private static Digest copyFile(
            Path from, FileChannel out, String key, OptionalLong expected, ProgressListener progress)
            throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(from, BasicFileAttributes.class);
        if (!attributes.isRegularFile()) {
            throw new IOException(from + " is not a regular file ("
                    + TrustedDirectory.kindOf(attributes)
                    + "); a FIFO or device may block or never end, so only regular files are read as sources");
        }
        OptionalLong total = OptionalLong.of(attributes.size());
        long limit = expected.isPresent() ? expected.getAsLong() + 1 : Long.MAX_VALUE;
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        Digest.Running digest = new Digest.Running();
        long copied = 0;
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ)) {
            while (true) {
                buffer.clear();
                buffer.limit((int) Math.min(CHUNK, limit - copied));
                if (buffer.limit() == 0) {
                    throw new SourceTooLargeException(from.toString(), expected.getAsLong());
                }
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("interrupted after " + copied + " bytes");
                }
                buffer.flip();
                digest.update(buffer.duplicate());
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                copied += n;
                progress.onProgress(key, copied, total);
            }
        }
        return digest.result();
    }
}
