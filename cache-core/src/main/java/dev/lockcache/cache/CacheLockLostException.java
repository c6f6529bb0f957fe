package dev.lockcache.cache;

import java.nio.file.Path;

/**
 * The key's lock was taken away while this fetch held it (an exclusive-create lease broken while the process
 * was paused, a ZooKeeper session lost), so the fetch abandoned its publish: nothing it fetched was published,
 * and whatever the new holder publishes is kept. Fetch again to take the lock anew.
 */
public final class CacheLockLostException extends CacheException {
    private static final long serialVersionUID = 1L;

    public CacheLockLostException(String key, Path entry, String reason) {
        super(
                "abandoned publishing dataset '" + key + "' at " + entry + ": the key's lock was lost while this "
                        + "fetch held it (" + reason + "); nothing was published by this fetch, fetch again",
                key,
                entry,
                null);
    }
}
