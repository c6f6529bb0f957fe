package dev.lockcache.cache;

import dev.lockcache.lock.spi.DirectoryTrust;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The file a fetch downloads into, kept beside the entry when a download stops short so that the next holder of
 * the key's lock can resume it: {@code .FILE.incomplete}, described by {@code .FILE.incomplete.properties} (the
 * source, the HTTP validator of the version being downloaded, its total length). Both are created by the cache
 * (mode 0600) and touched only by holders of the key's lock; neither is ever visible at the entry path, which
 * receives the file only by an atomic rename once its digest is verified.
 *
 * <p>A kept file is believed only as far as its description says: same source, a validator to send in {@code
 * If-Range}, a private regular file of ours with one link, and no longer than the recorded total. Anything else is
 * removed and the download starts over. The bytes kept are re-hashed before more are appended, so the digest
 * always covers the whole file. Not thread-safe; one per fetch attempt, inside the key's lock.
 */
final class PartialDownload implements AutoCloseable {

    static final String SUFFIX = ".incomplete";
    static final String SIDECAR_SUFFIX = ".incomplete.properties";
    private static final int MAX_SIDECAR_BYTES = 8 * 1024;
    private static final int CHUNK = 1024 * 1024;

    /**
     * Which version of the source a kept file holds.
     *
     * @param source the source as the spec describes it
     * @param validator the strong ETag (quoted, as sent) or the Last-Modified date, for {@code If-Range}; {@code ""}
     *     when the server gave neither, and then the file cannot be resumed
     * @param total the full length, or {@code -1} when the server did not say
     */
    record Version(String source, String validator, long total) {}

    private final TrustedDirectory dir;
    private final String name;
    private final String sidecar;
    private final String source;
    private final boolean resumable;
    private FileChannel channel;
    private Optional<Version> version;
    private long kept;

    private PartialDownload(
            TrustedDirectory dir, String target, String source, boolean resumable, FileChannel channel, Version v) {
        this.dir = dir;
        this.name = fileName(target);
        this.sidecar = sidecarName(target);
        this.source = source;
        this.resumable = resumable;
        this.channel = channel;
        this.version = Optional.ofNullable(v);
    }

    static String fileName(String target) {
        return "." + target + SUFFIX;
    }

    static String sidecarName(String target) {
        return "." + target + SIDECAR_SUFFIX;
    }

    /** Whether {@code name} is a partial download or its description, for a target named {@code target}. */
    static boolean isPartialOf(String name, String target) {
        return name.equals(fileName(target)) || name.equals(sidecarName(target));
    }

    /**
     * Opens the partial download for {@code target} in {@code dir}: the kept one when {@code resume} is set and it
     * can be believed (positioned at its end), else a new empty file (anything kept is removed first).
     */
    static PartialDownload open(TrustedDirectory dir, String target, String source, boolean resume) throws IOException {
        if (resume) {
            Optional<Version> v = readVersion(dir, sidecarName(target));
            if (v.isPresent()
                    && v.get().source().equals(source)
                    && !v.get().validator().isEmpty()) {
                FileChannel kept = null;
                try {
                    kept = dir.openOwnedForWrite(fileName(target));
                    long size = kept.size();
                    if (size > 0 && (v.get().total() < 0 || size < v.get().total())) {
                        PartialDownload p = new PartialDownload(dir, target, source, true, kept, v.get());
                        p.kept = size;
                        kept.position(size);
                        return p;
                    }
                } catch (NoSuchFileException | CacheUnsafePathException e) {
                    // nothing usable kept: start over
                }
                if (kept != null) {
                    kept.close();
                }
            }
        }
        dir.delete(fileName(target));
        dir.delete(sidecarName(target));
        FileChannel fresh = dir.create(fileName(target), DirectoryTrust.fileMode());
        return new PartialDownload(dir, target, source, resume, fresh, null);
    }

    /** The file's name in its directory. */
    String name() {
        return name;
    }

    /** The channel to write the body to, positioned after the kept bytes. */
    FileChannel channel() {
        return channel;
    }

    /** Bytes kept from an earlier attempt that the download continues after ({@code 0} for a new one). */
    long kept() {
        return kept;
    }

    /** The validator the kept bytes were downloaded under, for {@code If-Range}. */
    Optional<String> validator() {
        return version.map(Version::validator).filter(v -> !v.isEmpty());
    }

    /** The full length recorded for the kept bytes' version, or {@code -1}. */
    long recordedTotal() {
        return version.map(Version::total).orElse(-1L);
    }

    /** Drops the kept bytes: the file is emptied (it is ours) and its description removed. */
    void restart() throws IOException {
        channel.truncate(0);
        channel.position(0);
        kept = 0;
        version = Optional.empty();
        dir.delete(sidecar);
    }

    /**
     * Records which version the body about to be written belongs to, before any byte of it is written, so a
     * download stopped at any point is described by what it holds. Atomic (temp file, rename); not synced: after
     * a power loss the description may be missing, and then the kept bytes are dropped.
     */
    void describe(String validator, long total) throws IOException {
        Version v = new Version(source, validator, total);
        version = Optional.of(v);
        if (!resumable || validator.isEmpty()) {
            dir.delete(sidecar);
            return;
        }
        Properties p = new Properties();
        p.setProperty("source", v.source());
        p.setProperty("validator", v.validator());
        p.setProperty("total", Long.toString(v.total()));
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        p.store(text, "lockcache partial download; written under the key's lock, do not edit");
        String temp = EntryLayout.tempName(sidecar);
        try {
            try (FileChannel out = dir.create(temp, DirectoryTrust.fileMode())) {
                ByteBuffer bytes = ByteBuffer.wrap(text.toByteArray());
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
            }
            dir.rename(temp, sidecar);
        } finally {
            Durability.deleteQuietly(dir, temp);
        }
    }

    /** Feeds the kept bytes into {@code digest} (so that it covers the whole file once the rest is added). */
    void hashKept(Digest.Running digest) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        long at = 0;
        while (at < kept) {
            buffer.clear();
            buffer.limit((int) Math.min(CHUNK, kept - at));
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException("the partial download " + dir.resolve(name) + " ended at " + at + " of " + kept
                        + " kept bytes");
            }
            buffer.flip();
            digest.update(buffer);
            at += n;
        }
    }

    /** Forces the file's bytes to stable storage. */
    void force() throws IOException {
        channel.force(true);
    }

    /** Whether a download stopped short should keep this file for the next attempt. */
    boolean worthKeeping() {
        try {
            return resumable && validator().isPresent() && channel.size() > 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Closes the file and removes both it and its description. */
    void discard() {
        close();
        Durability.deleteQuietly(dir, name);
        Durability.deleteQuietly(dir, sidecar);
    }

    /** Closes the file and removes its description (once it is published under the entry's name). */
    void published() {
        close();
        Durability.deleteQuietly(dir, sidecar);
    }

    @Override
    public void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // the bytes were forced before anything relied on them
            }
            channel = null;
        }
    }

    private static Optional<Version> readVersion(TrustedDirectory dir, String sidecar) {
        try {
            Optional<Map<String, Object>> a = dir.unixAttributes(sidecar);
            if (a.isEmpty()) {
                return Optional.empty();
            }
            if (!a.get().isEmpty()) {
                int mode = (Integer) a.get().get("mode");
                long uid = ((Number) a.get().get("uid")).longValue();
                if ((mode & 0170000) != 0100000
                        || uid != DirectoryTrust.effectiveUid()
                        || ((Number) a.get().get("nlink")).intValue() != 1
                        || (mode & 0077) != 0
                        || ((Number) a.get().get("size")).longValue() > MAX_SIDECAR_BYTES) {
                    return Optional.empty();
                }
            }
            byte[] bytes;
            try (FileChannel in = dir.openRegular(sidecar)) {
                ByteBuffer buffer = ByteBuffer.allocate(MAX_SIDECAR_BYTES + 1);
                while (buffer.hasRemaining() && in.read(buffer) >= 0) {
                    // until full or at the end
                }
                if (!buffer.hasRemaining()) {
                    return Optional.empty();
                }
                bytes = new byte[buffer.position()];
                buffer.flip().get(bytes);
            }
            Properties p = new Properties();
            p.load(new ByteArrayInputStream(bytes));
            String source = p.getProperty("source");
            String validator = p.getProperty("validator");
            long total = Long.parseLong(p.getProperty("total", "-1"));
            if (source == null || validator == null) {
                return Optional.empty();
            }
            return Optional.of(new Version(source, validator, total));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The path of the partial file, for messages. */
    Path path() {
        return dir.resolve(name);
    }
}
