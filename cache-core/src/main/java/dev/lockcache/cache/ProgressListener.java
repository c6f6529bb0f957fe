package dev.lockcache.cache;

import java.util.OptionalLong;

/**
 * Hears how a fetch advances. Called from the fetching thread, after each write of the download (every 256 KiB
 * for HTTP, every 1 MiB for a file source) and once at the end; it must be quick and must not throw. A resumed
 * download starts at the bytes kept from the stopped one. Callers waiting for another thread or process that
 * holds the key's lock hear nothing until it publishes.
 */
@FunctionalInterface
public interface ProgressListener {

    /** A listener that ignores everything. */
    ProgressListener NONE = (key, bytes, total) -> {};

    /**
     * @param key the dataset being fetched
     * @param bytes bytes in the file so far (kept bytes of a resumed download included)
     * @param total the size announced by the source (HTTP {@code Content-Length}, the file's size), if known
     */
    void onProgress(String key, long bytes, OptionalLong total);
}
