package dev.lockcache.cache;

import dev.lockcache.lock.Ticker;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.OptionalLong;

/** Gets a dataset's bytes from its source into a temporary file: a file copy, an HTTP download or a producer. */
final class SourceFetcher {

    private static final int CHUNK = 64 * 1024;

    private final HttpDownloader http;

    SourceFetcher(HttpTimeouts timeouts, Ticker ticker) {
        this.http = new HttpDownloader(timeouts, ticker);
    }

    /** Fills {@code target} (an existing empty file) with the bytes of {@code spec}'s source. */
    void fetchInto(DatasetSpec spec, Path target, ProgressListener progress) throws IOException, InterruptedException {
        DatasetSource source = spec.source();
        if (source instanceof DatasetSource.Producer producer) {
            producer.producer().produce(target);
        } else if (source instanceof DatasetSource.Url url && url.isHttp()) {
            http.download(url.uri(), target, spec.key(), progress);
        } else if (source instanceof DatasetSource.Url url) {
            copyFile(Path.of(url.uri()), target, spec.key(), progress);
        } else {
            throw new IllegalStateException("unknown source kind " + source);
        }
    }

    private static void copyFile(Path from, Path target, String key, ProgressListener progress) throws IOException {
        OptionalLong total = OptionalLong.of(Files.size(from));
        byte[] buffer = new byte[CHUNK];
        long copied = 0;
        try (InputStream in = Files.newInputStream(from);
                OutputStream out = Files.newOutputStream(target, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("interrupted after " + copied + " bytes");
                }
                out.write(buffer, 0, n);
                copied += n;
                progress.onProgress(key, copied, total);
            }
        }
    }
}
