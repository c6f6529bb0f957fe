package dev.lockcache.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The SHA-256 and size of a file, read in one pass.
 *
 * @param sha256 lower-case hex
 * @param size bytes read
 */
record Digest(String sha256, long size) {

    /** Reads the regular file {@code name} in {@code dir} (never through a symlink) to its end. */
    static Digest of(TrustedDirectory dir, String name) throws IOException {
        Running running = new Running();
        try (FileChannel in = dir.openRegular(name)) {
            ByteBuffer buffer = ByteBuffer.allocate(1024 * 1024);
            while (in.read(buffer) >= 0) {
                buffer.flip();
                running.update(buffer);
                buffer.clear();
            }
        }
        return running.result();
    }

    /** A digest fed as the bytes go by. Not thread-safe. */
    static final class Running {
        private final MessageDigest sha;
        private long size;

        Running() {
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every Java platform has SHA-256", e);
            }
        }

        /** Adds the remaining bytes of {@code bytes}, consuming them. */
        void update(ByteBuffer bytes) {
            size += bytes.remaining();
            sha.update(bytes);
        }

        /** Forgets everything fed so far. */
        void reset() {
            sha.reset();
            size = 0;
        }

        Digest result() {
            return new Digest(HexFormat.of().formatHex(sha.digest()), size);
        }
    }
}
