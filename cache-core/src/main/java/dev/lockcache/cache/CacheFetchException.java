package dev.lockcache.cache;

import java.nio.file.Path;

/**
 * Getting the bytes failed: the source answered with an error, stalled past a timeout, was cut short, or the
 * fetch was interrupted (the thread's interrupt flag is then set again). Nothing was published: the previous
 * entry and its mirrors are intact and the temporary file is gone.
 */
public class CacheFetchException extends CacheException {
    private static final long serialVersionUID = 1L;

    private final String source;

    public CacheFetchException(String key, String source, Path entry, String reason, Throwable cause) {
        super(
                "fetching dataset '" + key + "' from " + source + " failed: " + reason
                        + "; nothing was published (the previous entry, if any, is intact at " + entry
                        + "). Check the source and fetch again",
                key,
                entry,
                cause);
        this.source = source;
    }

    /** The source as the dataset spec describes it. */
    public String source() {
        return source;
    }
}
