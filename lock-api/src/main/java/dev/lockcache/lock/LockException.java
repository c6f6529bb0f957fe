package dev.lockcache.lock;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The root of lockcache's unchecked lock failures. Messages quote the path and say what to do. A lock that
 * could not be taken because the thread was interrupted is reported as {@link InterruptedException}
 * instead, which stays checked.
 */
public class LockException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Path path;

    public LockException(String message) {
        this(message, null, null);
    }

    public LockException(String message, Path path, Throwable cause) {
        super(message, cause);
        this.path = path;
    }

    /** The lock path this failure is about, when there is one. */
    public Optional<Path> path() {
        return Optional.ofNullable(path);
    }
}
