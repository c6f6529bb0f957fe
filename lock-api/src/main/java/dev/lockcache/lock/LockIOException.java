package dev.lockcache.lock;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** An I/O failure while locking, releasing or inspecting; names the path and the operation. */
public final class LockIOException extends LockException {
    private static final long serialVersionUID = 1L;

    private final String operation;

    public LockIOException(String operation, Path path, String hint, IOException cause) {
        super(
                operation + " failed for lock " + path + ": " + describe(cause) + (hint.isEmpty() ? "" : "; " + hint),
                path,
                cause);
        this.operation = operation;
    }

    public LockIOException(String operation, Path path, IOException cause) {
        this(operation, path, "", cause);
    }

    /** What was being done: "open", "lock", "release", "write owner record"... */
    public String operation() {
        return operation;
    }

    /** The I/O failure underneath. */
    public IOException ioCause() {
        return (IOException) getCause();
    }

    /** Wraps an {@link UncheckedIOException} thrown by a lambda. */
    public static LockIOException of(String operation, Path path, UncheckedIOException e) {
        return new LockIOException(operation, path, e.getCause());
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : " (" + message + ")");
    }
}
