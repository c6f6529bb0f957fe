package dev.lockcache.cache;

import java.nio.file.Path;

/**
 * This fetch held the key's lock with a fencing token older than the one recorded for the entry: its lock was
 * broken while it was paused, and a newer holder has written since. It refused to publish; the newer entry is
 * kept. Fetch again to take the lock anew.
 */
public final class CacheFencingException extends CacheException {
    private static final long serialVersionUID = 1L;

    public CacheFencingException(String key, Path entry, long ownToken, long recordedToken) {
        super(
                "refusing to publish dataset '" + key + "' at " + entry + ": this fetch's lock token " + ownToken
                        + " is older than the token " + recordedToken
                        + " recorded by a later holder (the lock was broken while this fetch was paused); "
                        + "the newer entry is kept, fetch again",
                key,
                entry,
                null);
    }
}
