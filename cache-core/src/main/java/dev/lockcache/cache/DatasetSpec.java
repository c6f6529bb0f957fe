package dev.lockcache.cache;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a dataset is: its key in the cache, where its bytes come from, what they must be, and the file name of
 * the entry. Immutable and validated on construction.
 *
 * @param key the cache key: one path segment of letters, digits, {@code . _ + -}, not a Windows device name
 * @param source where the bytes come from
 * @param sha256 the expected SHA-256 in lower-case hex, if known
 * @param size the expected size in bytes, if known
 * @param fileName the entry's file name, under the same rules as the key
 */
public record DatasetSpec(
        String key, DatasetSource source, Optional<String> sha256, OptionalLong size, String fileName) {

    public DatasetSpec {
        NameRules.segment(key, "dataset key");
        NameRules.segment(fileName, "file name of dataset '" + key + "'");
        if (source == null) {
            throw new IllegalArgumentException("dataset '" + key + "' needs a source");
        }
        if (sha256 == null || size == null) {
            throw new IllegalArgumentException(
                    "dataset '" + key + "': use Optional.empty()/OptionalLong.empty(), not null");
        }
        sha256 = sha256.map(NameRules::sha256);
        if (size.isPresent() && size.getAsLong() < 0) {
            throw new IllegalArgumentException(
                    "dataset '" + key + "': expected size " + size.getAsLong() + " is negative");
        }
    }

    /** A spec with no expected digest or size (checked by nothing but the source's own completeness). */
    public static DatasetSpec of(String key, DatasetSource source, String fileName) {
        return new DatasetSpec(key, source, Optional.empty(), OptionalLong.empty(), fileName);
    }

    /** The same spec expecting SHA-256 {@code hex} (64 hex characters, any case). */
    public DatasetSpec withSha256(String hex) {
        return new DatasetSpec(key, source, Optional.of(NameRules.sha256(hex)), size, fileName);
    }

    /** The same spec expecting exactly {@code bytes} bytes. */
    public DatasetSpec withSize(long bytes) {
        return new DatasetSpec(key, source, sha256, OptionalLong.of(bytes), fileName);
    }
}
