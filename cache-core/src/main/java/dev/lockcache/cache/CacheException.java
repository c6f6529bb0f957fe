package dev.lockcache.cache;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The root of the cache's unchecked failures. Messages quote the dataset key, the path or the source and say
 * what to do. Subtypes tell the failures a caller may want to handle apart: {@link CacheFetchException} (the
 * source failed), {@link CacheIntegrityException} (the bytes were wrong), {@link CacheOfflineException} (policy
 * {@link FetchPolicy#NEVER} and nothing cached), {@link CacheFencingException} (a newer holder published) and
 * {@link CacheIOException} (the cache's own filesystem failed).
 */
public class CacheException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final transient Path path;

    public CacheException(String message) {
        this(message, "", null, null);
    }

    /**
     * @param key the dataset key this failure is about, or {@code ""} for none
     * @param path the path this failure is about, or {@code null} for none
     * @param cause the failure underneath, or {@code null}
     */
    public CacheException(String message, String key, Path path, Throwable cause) {
        super(message, cause);
        this.key = key == null ? "" : key;
        this.path = path;
    }

    /** The dataset key this failure is about, when there is one. */
    public Optional<String> key() {
        return key.isEmpty() ? Optional.empty() : Optional.of(key);
    }

    /** The path this failure is about, when there is one. */
    public Optional<Path> path() {
        return Optional.ofNullable(path);
    }
}
