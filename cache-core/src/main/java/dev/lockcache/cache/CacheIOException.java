package dev.lockcache.cache;

import java.io.IOException;
import java.nio.file.Path;

/** The cache's own filesystem failed (permissions, read-only mount, full disk, a file where a directory should be). */
public final class CacheIOException extends CacheException {
    private static final long serialVersionUID = 1L;

    private final String operation;

    public CacheIOException(String operation, Path path, String hint, IOException cause) {
        super(
                operation + " failed for " + path + ": " + describe(cause) + (hint.isEmpty() ? "" : "; " + hint),
                "",
                path,
                cause);
        this.operation = operation;
    }

    /** What was being done: "create directory", "publish entry", "mirror"... */
    public String operation() {
        return operation;
    }

    /** The I/O failure underneath. */
    public IOException ioCause() {
        return (IOException) getCause();
    }

    static String describe(Throwable e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : " (" + message + ")");
    }
}
