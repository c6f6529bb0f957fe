package dev.lockcache.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/**
 * An entry's metadata file: a small {@code key=value} properties file beside the entry, replaced atomically.
 *
 * <p>Besides the published entry's facts it keeps two counters for concurrent callers. {@code attempts} counts
 * fetch attempts on the key; it is bumped, and the file replaced, inside the lock before an attempt touches the
 * source, so a caller that reads it without the lock knows that every attempt numbered higher started after its
 * read (policy ALWAYS shares such a refresh). {@code fence.token} is the largest lock fencing token any writer
 * recorded, with its provider, so a paused holder whose lock was broken cannot publish over a newer entry.
 *
 * @param attempts the number of fetch attempts started on this key so far
 * @param fenceProvider the provider of {@code fenceToken}, or {@code ""} when none was recorded
 * @param fenceToken the largest fencing token recorded
 * @param published the published entry, when there is one
 */
record EntryMetadata(long attempts, String fenceProvider, long fenceToken, Optional<EntryInfo> published) {

    static final EntryMetadata NONE = new EntryMetadata(0, "", 0, Optional.empty());
    private static final String FORMAT = "1";

    /** Reads the file; a missing or unreadable one reads as {@link #NONE}. */
    static EntryMetadata read(Path file, String key, Path entry) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            return NONE; // missing, or not a properties file: nothing was recorded that we can trust
        }
        try {
            long attempts = Long.parseLong(p.getProperty("attempts", "0"));
            String fenceProvider = p.getProperty("fence.provider", "");
            long fenceToken = Long.parseLong(p.getProperty("fence.token", "0"));
            Optional<EntryInfo> published = Optional.empty();
            if (p.getProperty("entry.sha256") != null
                    && entry.getFileName().toString().equals(p.getProperty("entry.file"))) {
                published = Optional.of(new EntryInfo(
                        key,
                        entry,
                        p.getProperty("entry.source", ""),
                        p.getProperty("entry.sha256"),
                        Long.parseLong(p.getProperty("entry.size")),
                        p.getProperty("entry.provider", ""),
                        Long.parseLong(p.getProperty("entry.token", "0")),
                        Long.parseLong(p.getProperty("entry.refresh", "0")),
                        Instant.parse(p.getProperty("entry.fetched", ""))));
            }
            return new EntryMetadata(attempts, fenceProvider, fenceToken, published);
        } catch (NumberFormatException | DateTimeException e) {
            return NONE;
        }
    }

    /** Whether a holder of {@code provider}'s lock with {@code token} is older than the recorded fence. */
    boolean fencesOut(String provider, long token) {
        return fenceProvider.equals(provider) && token < fenceToken;
    }

    /** The metadata after starting attempt {@code attempts + 1} under {@code provider}'s {@code token}. */
    EntryMetadata startAttempt(String provider, long token) {
        return new EntryMetadata(attempts + 1, provider, fenceToken(provider, token), published);
    }

    /** The metadata after publishing {@code entry}. */
    EntryMetadata publish(EntryInfo entry) {
        return new EntryMetadata(
                attempts,
                entry.lockProvider(),
                fenceToken(entry.lockProvider(), entry.fencingToken()),
                Optional.of(entry));
    }

    private long fenceToken(String provider, long token) {
        return provider.equals(fenceProvider) ? Math.max(token, fenceToken) : token;
    }

    /** Writes the file atomically (temp file beside it, fsync, rename). */
    void write(Path file) {
        Properties p = new Properties();
        p.setProperty("format", FORMAT);
        p.setProperty("attempts", Long.toString(attempts));
        p.setProperty("fence.provider", fenceProvider);
        p.setProperty("fence.token", Long.toString(fenceToken));
        published.ifPresent(e -> {
            p.setProperty("entry.key", e.key());
            p.setProperty("entry.file", e.path().getFileName().toString());
            p.setProperty("entry.source", e.source());
            p.setProperty("entry.sha256", e.sha256());
            p.setProperty("entry.size", Long.toString(e.size()));
            p.setProperty("entry.provider", e.lockProvider());
            p.setProperty("entry.token", Long.toString(e.fencingToken()));
            p.setProperty("entry.refresh", Long.toString(e.refresh()));
            p.setProperty("entry.fetched", e.fetchedAt().toString());
        });
        Path temp = EntryLayout.tempSibling(file);
        try {
            TransientIo.run("write entry metadata", temp, () -> {
                try (OutputStream out = Files.newOutputStream(temp)) {
                    p.store(out, "lockcache entry metadata; written under the key's lock, do not edit");
                }
                Durability.fsync(temp);
                return null;
            });
            Durability.publish(temp, file, "publish entry metadata");
        } finally {
            Durability.deleteQuietly(temp);
        }
    }
}
