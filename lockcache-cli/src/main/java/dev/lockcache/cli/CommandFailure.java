package dev.lockcache.cli;

/**
 * A failure the CLI reports as one line with a chosen exit status: the message names the path or value and
 * says what to do.
 */
final class CommandFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    CommandFailure(int exitCode, String message) {
        this(exitCode, message, null);
    }

    CommandFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
