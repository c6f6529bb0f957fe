package dev.lockcache.examples;

import dev.lockcache.cache.DatasetCache;
import dev.lockcache.cache.DatasetSource;
import dev.lockcache.cache.DatasetSpec;
import java.nio.file.Path;

/** The README's cache quick start: {@code CacheQuickStart URL SHA256 SIZE CACHE-ROOT WORK-DIR}. */
public final class CacheQuickStart {

    public static void main(String[] args) {
        String url = args[0]; // e.g. https://example.org/mnist.npz
        String expectedSha256 = args[1]; // 64 hex characters
        long size = Long.parseLong(args[2]);
        try (DatasetCache cache = DatasetCache.builder() // lock providers come from ServiceLoader
                .root(Path.of(args[3])) // default: LOCKCACHE_HOME, else ~/.cache/lockcache
                .register(DatasetSpec.of("mnist", DatasetSource.url(url), "mnist.npz")
                        .withSha256(expectedSha256)
                        .withSize(size))
                .build()) { // close() ends the HTTP client downloads built

            Path data = cache.fetch("mnist", Path.of(args[4]).resolve("mnist.npz")); // IF_MISSING by default
            System.out.println(
                    "fetched " + data + " with lock " + cache.lockVerdict().providerName());
        }
    }
}
