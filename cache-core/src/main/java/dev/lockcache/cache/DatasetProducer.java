package dev.lockcache.cache;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Makes a dataset's bytes (generates, converts, downloads with a client of its own). Called inside the key's
 * lock, in the fetching thread, at most once per fetch.
 */
@FunctionalInterface
public interface DatasetProducer {

    /**
     * Writes the whole dataset into {@code target}, an empty file that exists, is private to this call and lies
     * beside the cache entry. Returning normally means the content is complete; it is then verified against the
     * spec and published. Throwing publishes nothing.
     */
    void produce(Path target) throws IOException, InterruptedException;
}
