package dev.lockcache.cache;

import java.nio.file.Path;

/**
 * The fetched bytes did not match the dataset spec's expected size or SHA-256 (nothing was published: the
 * previous entry and its mirrors are intact), or a cached entry no longer holds the bytes the cache verified when
 * it published them (its identity changed and a re-hash disagrees: something wrote into it, for example through
 * a hard-link mirror) and policy {@link FetchPolicy#NEVER} or a read-only cache forbids refetching it.
 */
public final class CacheIntegrityException extends CacheFetchException {
    private static final long serialVersionUID = 1L;

    private final String property;
    private final String expected;
    private final String actual;

    /**
     * @param property what was compared: {@code "size"} or {@code "sha256"}
     */
    public CacheIntegrityException(
            String key, String source, Path entry, String property, String expected, String actual) {
        this(
                key,
                source,
                entry,
                property,
                expected,
                actual,
                "a wrong or changed source, or an outdated expected value in the DatasetSpec");
    }

    /**
     * @param explanation what the mismatch probably means and what to do
     */
    public CacheIntegrityException(
            String key,
            String source,
            Path entry,
            String property,
            String expected,
            String actual,
            String explanation) {
        super(
                key,
                source,
                entry,
                property + " mismatch: expected " + expected + ", got " + actual + " (" + explanation + ")",
                null);
        this.property = property;
        this.expected = expected;
        this.actual = actual;
    }

    /** What was compared: {@code "size"} or {@code "sha256"}. */
    public String property() {
        return property;
    }

    /** The value the spec expected. */
    public String expected() {
        return expected;
    }

    /** The value the fetched bytes had. */
    public String actual() {
        return actual;
    }
}
