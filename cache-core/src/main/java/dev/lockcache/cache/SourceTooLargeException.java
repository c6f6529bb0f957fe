package dev.lockcache.cache;

import java.io.IOException;

/** A source sent more bytes than the spec's expected size; reading stopped one byte past it. */
final class SourceTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    private final long expected;

    SourceTooLargeException(String source, long expected) {
        super(source + " has more than the expected " + expected + " bytes; reading stopped after " + (expected + 1));
        this.expected = expected;
    }

    long expected() {
        return expected;
    }
}
