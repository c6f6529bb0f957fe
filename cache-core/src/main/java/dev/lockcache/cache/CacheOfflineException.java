package dev.lockcache.cache;

import java.nio.file.Path;

/** Policy {@link FetchPolicy#NEVER} was asked for a dataset that is not in the cache (or not as its spec says). */
public final class CacheOfflineException extends CacheException {
    private static final long serialVersionUID = 1L;

    public CacheOfflineException(String key, Path root, Path entry) {
        super(
                "dataset '" + key + "' is not in the cache at " + root + " (no verified entry at " + entry
                        + ") and the fetch policy is NEVER (offline); fetch it once with IF_MISSING while online, "
                        + "or point LOCKCACHE_HOME at a cache that has it",
                key,
                entry,
                null);
    }
}
