package dev.lockcache.lock.spi;

import dev.lockcache.lock.LockMode;
import java.nio.file.Path;

/**
 * One attempt's parameters, as the shared machinery hands them to a provider.
 *
 * @param path the lock file's real path (its parent exists and is a directory; the file may not exist yet)
 * @param mode the mode asked for; a provider without {@link LockFeature#SHARED} never sees {@code SHARED}
 * @param operation the caller's label for the owner record; may be empty
 */
public record LockRequest(Path path, LockMode mode, String operation) {
    public LockRequest {
        if (path == null || mode == null || operation == null) {
            throw new IllegalArgumentException("lock request fields must not be null");
        }
    }
}
