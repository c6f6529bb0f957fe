package dev.lockcache.cache;

import java.util.OptionalLong;

/**
 * Hears how a fetch advances. Called from the fetching thread or the HTTP client's threads, never
 * concurrently for one fetch; it must be quick and must not throw.
 */
@FunctionalInterface
public interface ProgressListener {

    /** A listener that ignores everything. */
    ProgressListener NONE = (key, bytes, total) -> {};

    /**
     * @param key the dataset being fetched
     * @param bytes bytes received so far
     * @param total the size announced by the source (HTTP {@code Content-Length}, the file's size), if known
     */
    void onProgress(String key, long bytes, OptionalLong total);
}
