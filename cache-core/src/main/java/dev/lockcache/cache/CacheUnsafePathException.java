package dev.lockcache.cache;

import dev.lockcache.lock.UnsafePathException;
import java.nio.file.Path;

/**
 * The cache refused a path that another account could turn against the caller: a cache root or subdirectory
 * owned by someone else or writable by others, a symlink, FIFO or device where the cache expects its own
 * directory or file, a metadata file others could have written, or a requested path that is not a regular
 * file. Nothing was written. The message names the path, the reason and the fix; when the judge was lock-api's
 * {@link dev.lockcache.lock.spi.DirectoryTrust}, its {@link UnsafePathException} is the cause.
 */
public final class CacheUnsafePathException extends CacheException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    public CacheUnsafePathException(String key, Path path, String reason, String fix) {
        super("refusing " + path + ": " + reason + (fix.isEmpty() ? "" : "; " + fix), key, path, null);
        this.reason = reason;
    }

    CacheUnsafePathException(String key, UnsafePathException cause) {
        super(cause.getMessage(), key, cause.path().orElse(null), cause);
        this.reason = cause.reason();
    }

    /** Why the path was refused, without the fix. */
    public String reason() {
        return reason;
    }
}
