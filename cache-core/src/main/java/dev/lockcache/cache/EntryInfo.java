package dev.lockcache.cache;

import java.nio.file.Path;
import java.time.Instant;

/**
 * What the cache recorded when it published an entry.
 *
 * @param key the dataset key
 * @param path the entry file (read-only where the filesystem has modes)
 * @param source the source the bytes came from
 * @param sha256 the SHA-256 of the bytes, lower-case hex
 * @param size the size in bytes
 * @param lockProvider the provider whose lock the publisher held
 * @param fencingToken that lock's fencing token
 * @param refresh the number of the fetch attempt that produced it (counts every attempt on this key, failed
 *     ones too; grows by at least one with each publish)
 * @param fetchedAt the publisher's wall-clock time, for people only
 */
public record EntryInfo(
        String key,
        Path path,
        String source,
        String sha256,
        long size,
        String lockProvider,
        long fencingToken,
        long refresh,
        Instant fetchedAt) {

    public EntryInfo {
        if (key == null
                || path == null
                || source == null
                || sha256 == null
                || lockProvider == null
                || fetchedAt == null) {
            throw new IllegalArgumentException("entry info fields must not be null");
        }
    }
}
