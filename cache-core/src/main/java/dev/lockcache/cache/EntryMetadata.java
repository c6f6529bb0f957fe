package dev.lockcache.cache;

import dev.lockcache.lock.spi.DirectoryTrust;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An entry's metadata file: a small {@code key=value} properties file beside the entry, replaced atomically.
 *
 * <p>Besides the published entry's facts it keeps two counters for concurrent callers. {@code attempts} counts
 * fetch attempts on the key; it is bumped, and the file replaced, inside the lock before an attempt touches the
 * source, so a caller that reads it without the lock knows that every attempt numbered higher started after its
 * read (policy ALWAYS shares such a refresh). {@code fence.token} is the largest lock fencing token any writer
 * recorded, with its provider and the holder that wrote it ({@code fence.holder}: one random id per lock
 * acquisition, plus pid and host for people), so a paused holder whose lock was broken cannot publish over a
 * newer entry, not even with an equal token. {@code entry.identity} is the entry's {@link FileIdentity} as it
 * was after the cache's own last change to it.
 *
 * <p>{@code pending.*} describes a verified file about to be renamed onto the entry, written just before that
 * rename: when the rename happens but the metadata written after it does not (a failed rename, a crash), the
 * entry holds bytes the recorded digest does not describe. A re-hash that gives the pending digest shows it is
 * that verified file, and the cache adopts it ({@link #adoptPending}) instead of calling it corrupt.
 *
 * <p>The file is read only when it is a regular file with one link, owned by this user or root and not
 * writable by others (nor by its group, unless the cache is group-shared), and only up to {@value #MAX_BYTES}
 * bytes; otherwise it reads as {@link #NONE} with the reason in {@link #unusable()}, and the next fetch with a
 * policy that may fetch replaces it.
 *
 * @param attempts the number of fetch attempts started on this key so far
 * @param fenceProvider the provider of {@code fenceToken}, or {@code ""} when none was recorded
 * @param fenceToken the largest fencing token recorded
 * @param fenceHolder who recorded {@code fenceToken}, or {@code ""} when unknown
 * @param published the published entry, when there is one
 * @param identity the published entry's identity after the cache's last change to it, when recorded
 * @param pending the verified file whose rename onto the entry was started and not recorded, when there is one
 * @param unusable why the file on disk could not be used, or {@code ""}
 */
record EntryMetadata(
        long attempts,
        String fenceProvider,
        long fenceToken,
        String fenceHolder,
        Optional<EntryInfo> published,
        Optional<FileIdentity> identity,
        Optional<EntryInfo> pending,
        String unusable) {

    /** The largest metadata file read; ours are a few hundred bytes. */
    static final int MAX_BYTES = 64 * 1024;

    static final EntryMetadata NONE =
            new EntryMetadata(0, "", 0, "", Optional.empty(), Optional.empty(), Optional.empty(), "");
    private static final Logger LOG = LoggerFactory.getLogger(EntryMetadata.class);
    private static final String FORMAT = "2";

    /** Reads the file in {@code keyDir}; a missing one reads as {@link #NONE}, an unusable one as NONE with why. */
    static EntryMetadata read(TrustedDirectory keyDir, String key, Path entry) {
        Path file = keyDir.resolve(EntryLayout.METADATA_FILE);
        byte[] bytes;
        try {
            Optional<Map<String, Object>> attrs = keyDir.unixAttributes(EntryLayout.METADATA_FILE);
            if (attrs.isEmpty()) {
                return NONE;
            }
            String problem = problem(attrs.get());
            if (!problem.isEmpty()) {
                return unusable(file, problem);
            }
            bytes = readBounded(keyDir, file);
        } catch (NoSuchFileException e) {
            return NONE;
        } catch (CacheUnsafePathException e) {
            return unusable(file, e.reason());
        } catch (IOException e) {
            return unusable(file, "it could not be read: " + CacheIOException.describe(e));
        }
        if (bytes == null) {
            return unusable(file, "it is larger than " + MAX_BYTES + " bytes");
        }
        Properties p = new Properties();
        try {
            p.load(new ByteArrayInputStream(bytes));
        } catch (IOException | IllegalArgumentException e) {
            return unusable(file, "it is not a properties file");
        }
        try {
            long attempts = Long.parseLong(p.getProperty("attempts", "0"));
            String fenceProvider = p.getProperty("fence.provider", "");
            long fenceToken = Long.parseLong(p.getProperty("fence.token", "0"));
            Optional<EntryInfo> published = info(p, "entry.", key, entry);
            return new EntryMetadata(
                    attempts,
                    fenceProvider,
                    fenceToken,
                    p.getProperty("fence.holder", ""),
                    published,
                    published.isPresent() ? FileIdentity.decode(p.getProperty("entry.identity")) : Optional.empty(),
                    info(p, "pending.", key, entry),
                    "");
        } catch (NumberFormatException | DateTimeException | NullPointerException e) {
            return unusable(file, "its values do not parse");
        }
    }

    /** The entry facts under {@code prefix}, when they are there and name {@code entry}'s file. */
    private static Optional<EntryInfo> info(Properties p, String prefix, String key, Path entry) {
        if (p.getProperty(prefix + "sha256") == null
                || !entry.getFileName().toString().equals(p.getProperty(prefix + "file"))) {
            return Optional.empty();
        }
        return Optional.of(new EntryInfo(
                key,
                entry,
                p.getProperty(prefix + "source", ""),
                p.getProperty(prefix + "sha256"),
                Long.parseLong(p.getProperty(prefix + "size")),
                p.getProperty(prefix + "provider", ""),
                Long.parseLong(p.getProperty(prefix + "token", "0")),
                Long.parseLong(p.getProperty(prefix + "refresh", "0")),
                Instant.parse(p.getProperty(prefix + "fetched", ""))));
    }

    /** Why a metadata file with these attributes must not be believed, or {@code ""}. */
    private static String problem(Map<String, Object> a) {
        if (a.isEmpty()) {
            return ""; // no unix attributes on this platform
        }
        int mode = (Integer) a.get("mode");
        if ((mode & 0170000) != 0100000) {
            return "it is not a regular file";
        }
        long uid = ((Number) a.get("uid")).longValue();
        if (uid != DirectoryTrust.effectiveUid() && uid != 0) {
            return "it belongs to user id " + uid + ", not to this user or root";
        }
        if (((Number) a.get("nlink")).intValue() != 1) {
            return "it has more than one link";
        }
        int forbidden = DirectoryTrust.groupShared() ? 0002 : 0022;
        if ((mode & forbidden) != 0) {
            return "it is writable by others (mode " + Integer.toOctalString(mode & 07777) + ")";
        }
        if (((Number) a.get("size")).longValue() > MAX_BYTES) {
            return "it is larger than " + MAX_BYTES + " bytes";
        }
        return "";
    }

    /** At most {@link #MAX_BYTES} bytes of the file, or {@code null} when it has more. */
    private static byte[] readBounded(TrustedDirectory keyDir, Path file) throws IOException {
        try (FileChannel in = keyDir.openRegular(EntryLayout.METADATA_FILE)) {
            ByteBuffer buffer = ByteBuffer.allocate(MAX_BYTES + 1);
            while (buffer.hasRemaining() && in.read(buffer) >= 0) {
                // keep reading until full or at the end
            }
            if (!buffer.hasRemaining()) {
                return null;
            }
            byte[] bytes = new byte[buffer.position()];
            buffer.flip().get(bytes);
            return bytes;
        }
    }

    private static EntryMetadata unusable(Path file, String why) {
        LOG.warn("ignoring the entry metadata {}: {}; the next fetch that may fetch replaces it", file, why);
        return new EntryMetadata(0, "", 0, "", Optional.empty(), Optional.empty(), Optional.empty(), file + ": " + why);
    }

    /**
     * Whether a holder {@code holder} of {@code provider}'s lock with {@code token} must not write: its token is
     * older than the recorded fence, or equal to it but recorded by another holder.
     */
    boolean fencesOut(String provider, long token, String holder) {
        if (!fenceProvider.equals(provider)) {
            return false;
        }
        return token < fenceToken || (token == fenceToken && !fenceHolder.isEmpty() && !fenceHolder.equals(holder));
    }

    /** The metadata after starting attempt {@code attempts + 1} under {@code provider}'s {@code token}. */
    EntryMetadata startAttempt(String provider, long token, String holder) {
        return new EntryMetadata(
                attempts + 1, provider, fenceToken(provider, token), holder, published, identity, pending, "");
    }

    /** The metadata about to rename the verified file {@code entry} onto the entry: {@link #pending} set. */
    EntryMetadata withPending(EntryInfo entry) {
        return new EntryMetadata(
                attempts, fenceProvider, fenceToken, fenceHolder, published, identity, Optional.of(entry), "");
    }

    /**
     * The metadata once a re-hash showed the entry is the {@link #pending} file, whose file is now {@code id}:
     * it becomes the published entry.
     */
    EntryMetadata adoptPending(FileIdentity id) {
        return new EntryMetadata(
                attempts, fenceProvider, fenceToken, fenceHolder, pending, Optional.of(id), Optional.empty(), "");
    }

    /** The metadata after publishing {@code entry} by {@code holder}, whose file is now {@code id}. */
    EntryMetadata publish(EntryInfo entry, String holder, FileIdentity id) {
        return new EntryMetadata(
                attempts,
                entry.lockProvider(),
                fenceToken(entry.lockProvider(), entry.fencingToken()),
                holder,
                Optional.of(entry),
                Optional.of(id),
                Optional.empty(),
                "");
    }

    /** The same metadata with the published entry's identity {@code id} (after a mirror link or a re-hash). */
    EntryMetadata withIdentity(FileIdentity id) {
        return new EntryMetadata(
                attempts, fenceProvider, fenceToken, fenceHolder, published, Optional.of(id), pending, "");
    }

    private long fenceToken(String provider, long token) {
        return provider.equals(fenceProvider) ? Math.max(token, fenceToken) : token;
    }

    /**
     * Writes the file atomically into {@code keyDir} (new temp file, rename) and syncs the directory, which also
     * makes an entry renamed just before durable. The file's content is not synced on its own: after a power loss
     * it may read as empty, which is {@link #unusable()} and costs a refetch, never a wrong answer.
     */
    void write(TrustedDirectory keyDir) {
        write(keyDir, true);
    }

    /**
     * Writes the file atomically into {@code keyDir} without syncing anything: for the attempt counter and fence
     * record written before a fetch starts, which only live holders and waiters read (a crash ends them all).
     */
    void writeUnsynced(TrustedDirectory keyDir) {
        write(keyDir, false);
    }

    private static void store(Properties p, String prefix, EntryInfo e) {
        p.setProperty(prefix + "key", e.key());
        p.setProperty(prefix + "file", e.path().getFileName().toString());
        p.setProperty(prefix + "source", e.source());
        p.setProperty(prefix + "sha256", e.sha256());
        p.setProperty(prefix + "size", Long.toString(e.size()));
        p.setProperty(prefix + "provider", e.lockProvider());
        p.setProperty(prefix + "token", Long.toString(e.fencingToken()));
        p.setProperty(prefix + "refresh", Long.toString(e.refresh()));
        p.setProperty(prefix + "fetched", e.fetchedAt().toString());
    }

    private void write(TrustedDirectory keyDir, boolean syncDirectory) {
        Properties p = new Properties();
        p.setProperty("format", FORMAT);
        p.setProperty("attempts", Long.toString(attempts));
        p.setProperty("fence.provider", fenceProvider);
        p.setProperty("fence.token", Long.toString(fenceToken));
        p.setProperty("fence.holder", fenceHolder);
        published.ifPresent(e -> store(p, "entry.", e));
        pending.ifPresent(e -> store(p, "pending.", e));
        identity.ifPresent(id -> p.setProperty("entry.identity", id.encode()));
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        try {
            p.store(text, "lockcache entry metadata; written under the key's lock, do not edit");
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        String temp = EntryLayout.tempName(EntryLayout.METADATA_FILE);
        Path file = keyDir.resolve(EntryLayout.METADATA_FILE);
        try {
            TransientIo.run("write entry metadata", keyDir.resolve(temp), () -> {
                try (FileChannel out = keyDir.create(temp, DirectoryTrust.fileMode())) {
                    ByteBuffer buffer = ByteBuffer.wrap(text.toByteArray());
                    while (buffer.hasRemaining()) {
                        out.write(buffer);
                    }
                }
                return null;
            });
            TransientIo.run("publish entry metadata", file, () -> {
                keyDir.rename(temp, EntryLayout.METADATA_FILE);
                return null;
            });
            if (syncDirectory) {
                keyDir.sync();
            }
        } finally {
            Durability.deleteQuietly(keyDir, temp);
        }
    }
}
