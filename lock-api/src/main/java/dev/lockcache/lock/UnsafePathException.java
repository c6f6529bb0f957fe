package dev.lockcache.lock;

import java.nio.file.Path;

/**
 * A path in a lock or cache directory that lockcache refuses to use because another account could turn it
 * against the caller: a symlink, a FIFO or device, a hard-linked file, a file or directory owned by someone
 * else, or a directory others may write. The message names the path, the reason and the fix.
 */
public final class UnsafePathException extends LockException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    public UnsafePathException(Path path, String reason, String fix) {
        super("refusing " + path + ": " + reason + (fix.isEmpty() ? "" : "; " + fix), path, null);
        this.reason = reason;
    }

    /** Why the path was refused, without the fix. */
    public String reason() {
        return reason;
    }
}
