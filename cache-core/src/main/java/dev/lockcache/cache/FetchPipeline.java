package dev.lockcache.cache;

import dev.lockcache.lock.spi.DirectoryTrust;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work done inside a key's lock: policy, fetch to a temporary file, verify, fsync, atomic publish,
 * metadata, mirror, and the entry's identity recorded after the last change. Holding the lock is the caller's
 * job; everything here assumes it. Also the lock-free answers: a warm hit, and everything a read-only cache can
 * serve.
 *
 * <p>Every file under the cache root is reached through {@link TrustedDirectory} (judged directories, no
 * symlink followed, created with our modes). The cache returns only bytes it verified: an entry is trusted while
 * its {@link FileIdentity} equals the one recorded after the cache's own last change to it; otherwise it is
 * re-hashed, and a mismatch is corruption (refetched, or {@link CacheIntegrityException} where it cannot be).
 */
final class FetchPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(FetchPipeline.class);

    /** Mode of published entries and read-only mirrors: read-only for everyone who can reach them. */
    static final int ENTRY_MODE = 0444;

    /** Mode of a writable mirror (a private copy outside the cache; the umask may narrow it). */
    static final int WRITABLE_MIRROR_MODE = 0644;

    private static final int CHUNK = 256 * 1024;

    /**
     * The lock a fetch holds, as the publish needs it.
     *
     * @param provider the provider's name
     * @param token its fencing token
     * @param holder this acquisition's identity (random, with pid and host for people), so that an equal token
     *     from another holder is told apart from this holder writing again
     * @param lost why the lock was lost, once the mechanism knows
     */
    record LockHold(String provider, long token, String holder, Supplier<Optional<String>> lost) {}

    /** How far a published entry can be believed. */
    enum Trust {
        /** Its identity is the one recorded: the verified bytes. */
        VERIFIED,
        /** Its identity changed but a re-hash gave the recorded digest: the verified bytes, to be re-recorded. */
        REHASHED,
        /**
         * Its identity changed and a re-hash gave the digest of the metadata's pending file: a verified file whose
         * rename happened but whose record did not; the verified bytes, to be adopted as published.
         */
        PENDING,
        /** Its identity changed and a re-hash disagrees: something wrote into it. */
        CORRUPT,
        /** None, or not what the spec describes now. */
        ABSENT
    }

    /**
     * What a warm hit found verified, per key: the spec it matched and the entry's identity as the metadata
     * recorded it after the cache's last change. While the entry still has that identity, the metadata need not
     * be read again: any change the cache makes to the entry (a refresh, a new link) changes it, and so does any
     * write by anyone else.
     */
    private record Known(DatasetSpec spec, Path entry, FileIdentity identity) {}

    private final SourceFetcher fetcher;
    private final ConcurrentHashMap<String, Known> known = new ConcurrentHashMap<>();

    /** Closes what downloads built (the HTTP client and its timer thread). */
    void close() {
        fetcher.close();
    }

    FetchPipeline(SourceFetcher fetcher) {
        this.fetcher = fetcher;
    }

    /**
     * The answer to a warm hit seen before, from two {@code stat}s and no metadata parse: under {@code IF_MISSING}
     * or {@code NEVER} with a read-only mirror, when {@code spec} is the one verified then, the entry still has the
     * identity recorded for it, and the requested path (if any) is a regular file with the entry's device and
     * inode. Anything else is empty and goes the long way ({@link #warmHit}, or the lock).
     */
    Optional<Path> knownHit(DatasetSpec spec, Optional<Path> requested, FetchOptions options) {
        if (options.policy() == FetchPolicy.ALWAYS || options.writableMirror()) {
            return Optional.empty();
        }
        Known k = known.get(spec.key());
        if (k == null || !k.spec().equals(spec)) {
            return Optional.empty();
        }
        try {
            Optional<FileIdentity> now = FileIdentity.of(k.entry());
            if (now.isEmpty() || !now.get().equals(k.identity())) {
                known.remove(spec.key(), k);
                return Optional.empty();
            }
            if (requested.isEmpty() || requested.get().equals(k.entry())) {
                return Optional.of(k.entry());
            }
            return FileIdentity.isLinkOf(requested.get(), now.get()) ? requested : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Remembers a verified warm hit for {@link #knownHit}. */
    private void remember(DatasetSpec spec, Path entry, EntryMetadata metadata) {
        metadata.identity().ifPresent(id -> known.put(spec.key(), new Known(spec, entry, id)));
    }

    /**
     * The answer to a fetch that needs no lock: under {@code IF_MISSING} or {@code NEVER}, when the entry is
     * published, matches {@code spec}, still has its recorded identity, and the requested path (if any) already
     * is a hard link to it. In a {@code readOnly} cache (one this process cannot write, where nothing can change
     * it) also an entry whose identity changed but whose re-hash agrees, and a copy into the requested path,
     * verified while copying. Anything else returns empty and goes through the lock; so does a key with crash
     * debris beside its entry or mirror, which the locked path removes.
     *
     * @throws CacheIntegrityException in a read-only cache, when the entry is corrupt (it cannot be refetched)
     */
    Optional<Path> warmHit(
            EntryLayout layout, DatasetSpec spec, Optional<Path> requested, FetchOptions options, boolean readOnly) {
        if (options.policy() == FetchPolicy.ALWAYS || (options.writableMirror() && !readOnly)) {
            return Optional.empty();
        }
        Path entry = layout.entryFile(spec);
        try (TrustedDirectory root = TrustedDirectory.root(layout.root(), false);
                TrustedDirectory entries = root.child(EntryLayout.ENTRIES, "entries directory", false);
                TrustedDirectory keyDir = entries.child(spec.key(), "entry directory of '" + spec.key() + "'", false)) {
            EntryMetadata metadata = EntryMetadata.read(keyDir, spec.key(), entry);
            if (metadata.published().filter(info -> specMatches(info, spec)).isEmpty()) {
                return Optional.empty();
            }
            EntryInfo info = metadata.published().get();
            if (!readOnly
                    && !EntryLayout.debrisAmong(keyDir.names(), spec.fileName()).isEmpty()) {
                return Optional.empty(); // a crashed fetch left a temp file: the locked path removes it
            }
            Trust trust = readOnly ? trust(keyDir, metadata, spec, entry) : identityTrust(metadata, spec, entry);
            if (trust == Trust.CORRUPT) {
                throw corrupted(
                        spec,
                        entry,
                        keyDir,
                        "the cache is read-only here, so it cannot be refetched; ask its"
                                + " owner to fetch it again (policy ALWAYS)");
            }
            boolean rehashed = trust == Trust.REHASHED || trust == Trust.PENDING;
            if (trust != Trust.VERIFIED && !(readOnly && rehashed)) {
                return Optional.empty(); // identityTrust's REHASHED only means "re-hash to tell": the locked path does
            }
            if (trust == Trust.PENDING) {
                info = metadata.pending().get(); // read-only: nobody can record it, but the bytes are verified
            }
            if (trust == Trust.VERIFIED) {
                remember(spec, entry, metadata);
            }
            if (requested.isEmpty() || requested.get().equals(entry)) {
                return Optional.of(entry);
            }
            Path target = requested.get();
            Optional<FileIdentity> mirror = FileIdentity.of(target);
            Optional<FileIdentity> now = FileIdentity.of(entry);
            boolean linked = !options.writableMirror()
                    && mirror.isPresent()
                    && now.isPresent()
                    && mirror.get().sameFile(now.get());
            if (linked && EntryLayout.debrisBeside(target).isEmpty()) {
                return requested;
            }
            if (!readOnly) {
                return Optional.empty();
            }
            checkRequested(spec.key(), target);
            mirror(spec, keyDir, info, target, options.writableMirror());
            return requested;
        } catch (NoSuchFileException e) {
            return Optional.empty(); // not cached yet: the locked path fetches it, or says why it cannot
        } catch (IOException e) {
            return Optional.empty(); // cannot be looked at without the lock: the locked path deals with it
        }
    }

    /**
     * Applies {@code options.policy()} to {@code spec} and returns the path the caller may read.
     *
     * @param notedAttempts the key's attempt counter as read before waiting for the lock
     * @param hold the lock held
     */
    Path fetchLocked(
            EntryLayout layout,
            DatasetSpec spec,
            Optional<Path> requested,
            FetchOptions options,
            long notedAttempts,
            LockHold hold) {
        String key = spec.key();
        Path entry = layout.entryFile(spec);
        requested.ifPresent(target -> checkRequested(key, target));
        try (TrustedDirectory root =
                        open("open cache root", layout.root(), () -> TrustedDirectory.root(layout.root(), true));
                TrustedDirectory entries = open(
                        "create entries directory",
                        layout.entriesDirectory(),
                        () -> root.child(EntryLayout.ENTRIES, "entries directory", true));
                TrustedDirectory keyDir = open(
                        "create entry directory",
                        layout.entryDirectory(key),
                        () -> entries.child(key, "entry directory of '" + key + "'", true))) {
            removeDebris(keyDir, spec.fileName());
            removeDebris(keyDir, EntryLayout.METADATA_FILE);
            removeDebris(keyDir, PartialDownload.sidecarName(spec.fileName()));

            EntryMetadata metadata = EntryMetadata.read(keyDir, key, entry);
            Trust trust = trust(keyDir, metadata, spec, entry);
            if (trust == Trust.PENDING) {
                metadata = adoptPending(spec, keyDir, entry, metadata, hold);
                trust = metadata.published().isPresent() ? Trust.VERIFIED : Trust.ABSENT;
            }
            boolean usable = trust == Trust.VERIFIED || trust == Trust.REHASHED;
            boolean fetch;
            switch (options.policy()) {
                case IF_MISSING -> fetch = !usable;
                case ALWAYS -> fetch = !usable || metadata.published().get().refresh() <= notedAttempts;
                case NEVER -> {
                    if (trust == Trust.CORRUPT) {
                        throw corrupted(
                                spec,
                                entry,
                                keyDir,
                                "policy NEVER forbids refetching it; fetch it again"
                                        + " with IF_MISSING or ALWAYS while online");
                    }
                    if (!usable) {
                        throw new CacheOfflineException(key, layout.root(), entry);
                    }
                    fetch = false;
                }
                default -> throw new IllegalStateException("unknown policy " + options.policy());
            }
            if (fetch) {
                metadata = publish(spec, keyDir, entry, metadata, hold, options);
            }
            EntryInfo info = metadata.published().get();
            if (requested.isPresent()) {
                mirror(spec, keyDir, info, requested.get(), options.writableMirror());
            }
            recordIdentity(spec, keyDir, entry, hold);
            return requested.orElse(entry);
        }
    }

    /**
     * Records as published the pending file a re-hash found at the entry (its rename happened, the metadata
     * after it did not), under the lock {@code hold}.
     */
    private static EntryMetadata adoptPending(
            DatasetSpec spec, TrustedDirectory keyDir, Path entry, EntryMetadata metadata, LockHold hold) {
        Optional<FileIdentity> id = settledIdentity(keyDir, entry);
        if (id.isEmpty()) {
            return EntryMetadata.NONE;
        }
        abandonIfLost(spec, entry, hold);
        refuseIfFenced(metadata, spec.key(), entry, hold);
        EntryMetadata adopted = metadata.adoptPending(id.get());
        adopted.write(keyDir);
        LOG.info(
                "adopted {} as the entry of '{}': its publish was cut short after the rename, and a re-hash gave the"
                        + " digest verified then",
                entry,
                spec.key());
        return adopted;
    }

    /** Per key directory name, the names of partial downloads in it (read without the lock; may be stale). */
    static Map<String, List<String>> partialDownloads(EntryLayout layout) {
        Map<String, List<String>> found = new LinkedHashMap<>();
        try (TrustedDirectory root = TrustedDirectory.root(layout.root(), false);
                TrustedDirectory entries = root.child(EntryLayout.ENTRIES, "entries directory", false)) {
            for (String key : entries.names()) {
                try {
                    NameRules.segment(key, "dataset key");
                } catch (IllegalArgumentException e) {
                    continue;
                }
                try (TrustedDirectory keyDir = entries.child(key, "entry directory of '" + key + "'", false)) {
                    List<String> partials = new ArrayList<>();
                    for (String name : keyDir.names()) {
                        if (name.startsWith(".") && name.endsWith(PartialDownload.SUFFIX)) {
                            partials.add(name);
                        }
                    }
                    if (!partials.isEmpty()) {
                        found.put(key, partials);
                    }
                } catch (IOException | CacheUnsafePathException e) {
                    // not a directory of ours: nothing of ours to remove there
                }
            }
        } catch (IOException e) {
            // no cache yet
        }
        return found;
    }

    /**
     * Removes, of the partial downloads {@code names} of {@code key} (whose lock the caller holds), those last
     * written before {@code before}, with their descriptions.
     */
    static List<Path> removePartialDownloads(EntryLayout layout, String key, List<String> names, Instant before) {
        List<Path> removed = new ArrayList<>();
        try (TrustedDirectory root = TrustedDirectory.root(layout.root(), false);
                TrustedDirectory entries = root.child(EntryLayout.ENTRIES, "entries directory", false);
                TrustedDirectory keyDir = entries.child(key, "entry directory of '" + key + "'", false)) {
            for (String name : names) {
                Path file = keyDir.resolve(name);
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue;
                }
                if (a.lastModifiedTime().compareTo(FileTime.from(before)) >= 0) {
                    continue;
                }
                String target = name.substring(1, name.length() - PartialDownload.SUFFIX.length());
                keyDir.delete(name);
                keyDir.delete(PartialDownload.sidecarName(target));
                removed.add(file);
            }
        } catch (IOException e) {
            throw new CacheIOException(
                    "remove partial downloads",
                    layout.entryDirectory(key),
                    TransientIo.hint(e, layout.entryDirectory(key)),
                    e);
        }
        return removed;
    }

    /** The key's attempt counter as it is now, read without the lock ({@code 0} when there is none yet). */
    static long attempts(EntryLayout layout, DatasetSpec spec) {
        try (TrustedDirectory root = TrustedDirectory.root(layout.root(), false);
                TrustedDirectory entries = root.child(EntryLayout.ENTRIES, "entries directory", false);
                TrustedDirectory keyDir = entries.child(spec.key(), "entry directory of '" + spec.key() + "'", false)) {
            return EntryMetadata.read(keyDir, spec.key(), layout.entryFile(spec))
                    .attempts();
        } catch (IOException e) {
            return 0;
        }
    }

    /** What the metadata of {@code spec}'s entry records, read without the lock; empty when nothing is. */
    static Optional<EntryInfo> recorded(EntryLayout layout, DatasetSpec spec) {
        try (TrustedDirectory root = TrustedDirectory.root(layout.root(), false);
                TrustedDirectory entries = root.child(EntryLayout.ENTRIES, "entries directory", false);
                TrustedDirectory keyDir = entries.child(spec.key(), "entry directory of '" + spec.key() + "'", false)) {
            return EntryMetadata.read(keyDir, spec.key(), layout.entryFile(spec))
                    .published();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Records the entry's identity as it is now, after the cache's last change to it (publishing, or a hard-link
     * mirror, which changes its change time), when it differs from the recorded one.
     */
    private static void recordIdentity(DatasetSpec spec, TrustedDirectory keyDir, Path entry, LockHold hold) {
        EntryMetadata latest = EntryMetadata.read(keyDir, spec.key(), entry);
        Optional<FileIdentity> now = TransientIo.retry("inspect entry", entry, () -> FileIdentity.of(entry));
        if (now.isEmpty() || latest.published().isEmpty() || latest.identity().equals(now)) {
            return;
        }
        now = settledIdentity(keyDir, entry);
        if (now.isEmpty()) {
            return;
        }
        abandonIfLost(spec, entry, hold);
        refuseIfFenced(latest, spec.key(), entry, hold);
        latest.withIdentity(now.get()).write(keyDir);
    }

    /**
     * The entry's identity, once the filesystem's clock has moved past its change time. File times come from a
     * coarse kernel clock (a tick of 1-10 ms): a write into the entry within the tick of the cache's last change
     * would leave every time as recorded. Recording only after a file created now shows a later change time
     * makes any later write visible (git's "racily clean" problem, solved by waiting out the tick).
     */
    private static Optional<FileIdentity> settledIdentity(TrustedDirectory keyDir, Path entry) {
        String probe = EntryLayout.tempName(entry.getFileName().toString());
        try {
            for (int round = 0; ; round++) {
                Optional<FileIdentity> id = TransientIo.retry("inspect entry", entry, () -> FileIdentity.of(entry));
                if (id.isEmpty()) {
                    return id;
                }
                Optional<FileIdentity> clock =
                        TransientIo.retry("read the filesystem clock", keyDir.resolve(probe), () -> {
                            keyDir.create(probe, DirectoryTrust.fileMode()).close();
                            Optional<FileIdentity> c = FileIdentity.of(keyDir.resolve(probe));
                            keyDir.delete(probe);
                            return c;
                        });
                if (clock.isEmpty() || clock.get().changed() > id.get().changed() || round >= 200) {
                    // after 200 rounds the clock is not moving at all; the identity is still checked on every hit
                    return id;
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return id;
                }
            }
        } finally {
            Durability.deleteQuietly(keyDir, probe);
        }
    }

    private EntryMetadata publish(
            DatasetSpec spec,
            TrustedDirectory keyDir,
            Path entry,
            EntryMetadata metadata,
            LockHold hold,
            FetchOptions options) {
        String key = spec.key();
        String source = spec.source().describe();
        refuseIfFenced(metadata, key, entry, hold);
        EntryMetadata started = metadata.startAttempt(hold.provider(), hold.token(), hold.holder());
        started.writeUnsynced(keyDir);
        if (spec.source() instanceof DatasetSource.Producer) {
            return publishProduced(spec, keyDir, entry, started, hold);
        }
        PartialDownload partial = TransientIo.retry(
                "open partial download",
                keyDir.resolve(PartialDownload.fileName(spec.fileName())),
                () -> PartialDownload.open(keyDir, spec.fileName(), source, SourceFetcher.resumable(spec)));
        boolean keep = false;
        try {
            Digest digest;
            try {
                digest = fetchSource(spec, entry, () -> fetcher.fetchInto(spec, partial, options.progress()));
            } catch (CacheFetchException e) {
                keep = partial.worthKeeping(); // stopped short (reset, timeout, interrupt): the next fetch resumes
                throw e;
            }
            verify(spec, entry, digest);
            TransientIo.run("sync fetched file", partial.path(), () -> {
                partial.force();
                return null;
            });
            partial.close();
            TransientIo.run("make entry read-only", partial.path(), () -> {
                keyDir.setMode(partial.name(), ENTRY_MODE);
                return null;
            });
            EntryInfo info = announce(spec, keyDir, entry, started, hold, digest);
            TransientIo.run("publish entry", entry, () -> {
                keyDir.rename(partial.name(), spec.fileName());
                return null;
            });
            partial.published();
            keep = true; // nothing left to remove: it is the entry now
            return recordPublished(keyDir, entry, started, hold, info);
        } finally {
            if (!keep) {
                partial.discard();
            } else {
                partial.close();
            }
        }
    }

    /** Lets the producer write a private temporary file, hashes it, and publishes it. */
    private EntryMetadata publishProduced(
            DatasetSpec spec, TrustedDirectory keyDir, Path entry, EntryMetadata started, LockHold hold) {
        String key = spec.key();
        String temp = EntryLayout.tempName(spec.fileName());
        Path tempPath = keyDir.resolve(temp);
        try {
            TransientIo.run("create temporary file", tempPath, () -> {
                keyDir.create(temp, DirectoryTrust.fileMode()).close();
                return null;
            });
            fetchSource(spec, entry, () -> {
                fetcher.produce(spec, tempPath);
                return null;
            });
            // the producer wrote through a path of its own: one read hashes it (and nothing else reads it twice)
            Digest digest = TransientIo.retry("verify fetched file", tempPath, () -> Digest.of(keyDir, temp));
            verify(spec, entry, digest);
            TransientIo.run("make entry read-only", tempPath, () -> {
                keyDir.setMode(temp, ENTRY_MODE);
                try (FileChannel written = keyDir.openRegular(temp)) {
                    written.force(true);
                }
                return null;
            });
            EntryInfo info = announce(spec, keyDir, entry, started, hold, digest);
            TransientIo.run("publish entry", entry, () -> {
                keyDir.rename(temp, spec.fileName());
                return null;
            });
            return recordPublished(keyDir, entry, started, hold, info);
        } finally {
            Durability.deleteQuietly(keyDir, temp);
        }
    }

    /**
     * Checks that {@code hold} may still publish, and records the verified file about to be renamed onto the
     * entry as the metadata's pending file, so that a rename whose record is lost is recognised by its digest.
     */
    private static EntryInfo announce(
            DatasetSpec spec,
            TrustedDirectory keyDir,
            Path entry,
            EntryMetadata started,
            LockHold hold,
            Digest digest) {
        abandonIfLost(spec, entry, hold);
        refuseIfFenced(EntryMetadata.read(keyDir, spec.key(), entry), spec.key(), entry, hold);
        EntryInfo info = new EntryInfo(
                spec.key(),
                entry,
                spec.source().describe(),
                digest.sha256(),
                digest.size(),
                hold.provider(),
                hold.token(),
                started.attempts(),
                Instant.now());
        started.withPending(info).writeUnsynced(keyDir);
        return info;
    }

    /**
     * Records the entry just renamed into place: its identity once the filesystem clock moved past it, and the
     * metadata, whose rename is made durable by the one directory sync that also covers the entry's.
     */
    private static EntryMetadata recordPublished(
            TrustedDirectory keyDir, Path entry, EntryMetadata started, LockHold hold, EntryInfo info) {
        FileIdentity id = settledIdentity(keyDir, entry)
                .orElseThrow(() -> new CacheIOException(
                        "inspect entry",
                        entry,
                        "it vanished right after publishing",
                        new NoSuchFileException(entry.toString())));
        EntryMetadata published = started.publish(info, hold.holder(), id);
        published.write(keyDir);
        return published;
    }

    /** A step that gets the bytes. */
    @FunctionalInterface
    private interface SourceStep<T> {
        T run() throws IOException, InterruptedException;
    }

    private static <T> T fetchSource(DatasetSpec spec, Path entry, SourceStep<T> step) {
        String source = spec.source().describe();
        try {
            return step.run();
        } catch (InterruptedException | InterruptedIOException | ClosedByInterruptException e) {
            Thread.currentThread().interrupt();
            throw new CacheFetchException(spec.key(), source, entry, "interrupted", e);
        } catch (SourceTooLargeException e) {
            throw new CacheIntegrityException(
                    spec.key(),
                    source,
                    entry,
                    "size",
                    e.expected() + " bytes",
                    "more than " + e.expected() + " bytes (reading stopped one byte past the expected size)");
        } catch (CacheException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new CacheFetchException(spec.key(), source, entry, CacheIOException.describe(e), e);
        }
    }

    private static void verify(DatasetSpec spec, Path entry, Digest digest) {
        String source = spec.source().describe();
        if (spec.size().isPresent() && spec.size().getAsLong() != digest.size()) {
            throw new CacheIntegrityException(
                    spec.key(), source, entry, "size", spec.size().getAsLong() + " bytes", digest.size() + " bytes");
        }
        if (spec.sha256().isPresent() && !spec.sha256().get().equals(digest.sha256())) {
            throw new CacheIntegrityException(
                    spec.key(), source, entry, "sha256", spec.sha256().get(), digest.sha256());
        }
    }

    private static void refuseIfFenced(EntryMetadata metadata, String key, Path entry, LockHold hold) {
        if (metadata.fencesOut(hold.provider(), hold.token(), hold.holder())) {
            throw new CacheFencingException(key, entry, hold.token(), metadata.fenceToken());
        }
    }

    private static void abandonIfLost(DatasetSpec spec, Path entry, LockHold hold) {
        Optional<String> lost = hold.lost().get();
        if (lost.isPresent()) {
            throw new CacheLockLostException(spec.key(), entry, lost.get());
        }
    }

    /** How far the published entry in {@code metadata} can be believed, re-hashing it when its identity moved. */
    static Trust trust(TrustedDirectory keyDir, EntryMetadata metadata, DatasetSpec spec, Path entry) {
        Trust byIdentity = identityTrust(metadata, spec, entry);
        Optional<EntryInfo> pending = metadata.pending().filter(info -> specMatches(info, spec));
        if (byIdentity == Trust.VERIFIED || (byIdentity == Trust.ABSENT && pending.isEmpty())) {
            return byIdentity;
        }
        try {
            Digest digest = Digest.of(keyDir, entry.getFileName().toString());
            if (byIdentity == Trust.REHASHED && describes(metadata.published().get(), digest)) {
                return Trust.REHASHED;
            }
            if (pending.isPresent() && describes(pending.get(), digest)) {
                return Trust.PENDING;
            }
            return byIdentity == Trust.REHASHED ? Trust.CORRUPT : Trust.ABSENT;
        } catch (NoSuchFileException e) {
            return Trust.ABSENT;
        } catch (CacheUnsafePathException e) {
            return byIdentity == Trust.REHASHED ? Trust.CORRUPT : Trust.ABSENT;
        } catch (IOException e) {
            throw new CacheIOException("verify cached entry", entry, TransientIo.hint(e, entry), e);
        }
    }

    private static boolean describes(EntryInfo info, Digest digest) {
        return digest.size() == info.size() && digest.sha256().equals(info.sha256());
    }

    /**
     * {@link Trust#VERIFIED} when the entry still has its recorded identity, {@link Trust#ABSENT} when there is
     * no entry (or not what the spec says), else {@link Trust#REHASHED} meaning "must be re-hashed to tell".
     */
    private static Trust identityTrust(EntryMetadata metadata, DatasetSpec spec, Path entry) {
        if (metadata.published().filter(info -> specMatches(info, spec)).isEmpty()) {
            return Trust.ABSENT;
        }
        Optional<FileIdentity> now;
        try {
            now = FileIdentity.of(entry);
        } catch (IOException e) {
            return Trust.ABSENT;
        }
        if (now.isEmpty()) {
            return Trust.ABSENT;
        }
        return metadata.identity().equals(now)
                        && now.get().size() == metadata.published().get().size()
                ? Trust.VERIFIED
                : Trust.REHASHED;
    }

    /** Whether the recorded entry is what {@code spec} describes now. */
    private static boolean specMatches(EntryInfo info, DatasetSpec spec) {
        return info.source().equals(spec.source().describe())
                && spec.sha256().map(info.sha256()::equals).orElse(true)
                && (spec.size().isEmpty() || spec.size().getAsLong() == info.size());
    }

    private static CacheIntegrityException corrupted(
            DatasetSpec spec, Path entry, TrustedDirectory keyDir, String next) {
        String actual;
        try {
            actual = Digest.of(keyDir, entry.getFileName().toString()).sha256();
        } catch (IOException | RuntimeException e) {
            actual = "unreadable (" + e.getMessage() + ")";
        }
        String expected = EntryMetadata.read(keyDir, spec.key(), entry)
                .published()
                .map(EntryInfo::sha256)
                .orElse("the recorded digest");
        return new CacheIntegrityException(
                spec.key(),
                spec.source().describe(),
                entry,
                "sha256",
                expected,
                actual,
                "the cached entry changed after it was verified, for example a program wrote into a hard-link"
                        + " mirror of it; " + next);
    }

    /**
     * Refuses a requested path that exists and is not a regular file (a directory, a FIFO, a device, a symlink),
     * and a regular file of another user that this process could not have written.
     */
    static void checkRequested(String key, Path requested) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(requested, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new CacheIOException("inspect requested path", requested, TransientIo.hint(e, requested), e);
        }
        if (a.isDirectory()) {
            throw new CacheUnsafePathException(
                    key,
                    requested,
                    "the requested path for dataset '" + key + "' is a directory",
                    "give the path of a file to create or replace");
        }
        if (!a.isRegularFile()) {
            throw new CacheUnsafePathException(
                    key,
                    requested,
                    "the requested path for dataset '" + key + "' is " + TrustedDirectory.kindOf(a)
                            + ", not a regular file, and the cache replaces only regular files",
                    "remove it yourself if it should be replaced, or give another path");
        }
        try {
            Map<String, Object> unix = Files.readAttributes(requested, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            long uid = ((Number) unix.get("uid")).longValue();
            if (uid != DirectoryTrust.effectiveUid() && !Files.isWritable(requested)) {
                throw new CacheUnsafePathException(
                        key,
                        requested,
                        "the requested path belongs to user id " + uid + " and this user could not write it",
                        "give a path of your own");
            }
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // no owners on this platform
        } catch (IOException e) {
            throw new CacheIOException("inspect requested path", requested, TransientIo.hint(e, requested), e);
        }
    }

    /**
     * Makes {@code requested} show the entry's bytes: a hard link to the read-only entry, or a copy verified
     * while copying where links fail (or {@code writable} asks for one), placed by an atomic rename within the
     * requested path's directory, opened once. Does nothing when it already does. A directory swapped for
     * another (or for a symlink) after it was opened is refused: nothing is written outside the caller's path.
     */
    private static void mirror(
            DatasetSpec spec, TrustedDirectory keyDir, EntryInfo entry, Path requested, boolean writable) {
        if (requested.equals(entry.path())) {
            return;
        }
        Path parent = requested.getParent();
        if (!Files.isDirectory(parent)) {
            TransientIo.run("create directory for mirror", parent, () -> Files.createDirectories(parent));
        }
        String name = requested.getFileName().toString();
        try (TrustedDirectory dir = TransientIo.retry(
                "open directory for mirror", parent, () -> TrustedDirectory.caller(parent, spec.key()))) {
            removeDebris(dir, name);
            Optional<FileIdentity> existing =
                    TransientIo.retry("inspect mirror", requested, () -> FileIdentity.of(requested));
            Optional<FileIdentity> entryId =
                    TransientIo.retry("inspect entry", entry.path(), () -> FileIdentity.of(entry.path()));
            if (!writable
                    && existing.isPresent()
                    && entryId.isPresent()
                    && existing.get().sameFile(entryId.get())) {
                return;
            }
            String temp = EntryLayout.tempName(name);
            try {
                boolean linked = !writable
                        && TransientIo.retry("link mirror", dir.resolve(temp), () -> {
                            requireInPlace(spec, dir);
                            return tryLink(dir.resolve(temp), entry.path());
                        });
                if (!linked) {
                    if (existing.isPresent()
                            && TransientIo.retry(
                                    "inspect mirror", requested, () -> isCopyOf(dir, name, entry, writable))) {
                        return;
                    }
                    TransientIo.run("copy entry to mirror", dir.resolve(temp), () -> {
                        copyVerified(spec, keyDir, entry, dir, temp, writable ? WRITABLE_MIRROR_MODE : ENTRY_MODE);
                        return null;
                    });
                }
                TransientIo.run("replace mirror", requested, () -> {
                    requireInPlace(spec, dir);
                    dir.rename(temp, name);
                    return null;
                });
                dir.sync();
            } finally {
                Durability.deleteQuietly(dir, temp);
            }
        }
    }

    private static void requireInPlace(DatasetSpec spec, TrustedDirectory dir) throws IOException {
        if (!dir.stillAt()) {
            throw new CacheUnsafePathException(
                    spec.key(),
                    dir.path(),
                    "the directory of the requested path was replaced while dataset '" + spec.key()
                            + "' was being fetched",
                    "check what else changes " + dir.path() + "; then fetch again");
        }
    }

    /** Copies the entry into a new {@code temp} in {@code dir}, hashing as it goes; refuses bytes that differ. */
    private static void copyVerified(
            DatasetSpec spec, TrustedDirectory keyDir, EntryInfo entry, TrustedDirectory dir, String temp, int mode)
            throws IOException {
        Digest.Running digest = new Digest.Running();
        try (FileChannel in = keyDir.openRegular(entry.path().getFileName().toString());
                FileChannel out = dir.create(temp, mode)) {
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            while (in.read(buffer) >= 0) {
                buffer.flip();
                digest.update(buffer.duplicate());
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                buffer.clear();
            }
            Digest copied = digest.result();
            if (copied.size() != entry.size() || !copied.sha256().equals(entry.sha256())) {
                throw corrupted(spec, entry.path(), keyDir, "fetch it again with IF_MISSING or ALWAYS");
            }
            out.force(true);
        }
        if (mode == WRITABLE_MIRROR_MODE) {
            dir.setMode(temp, mode); // the user's own copy: readable as the entry was, writable by its owner
        }
    }

    /** Whether {@code name} in {@code dir} is a separate copy with the entry's bytes (and owner-writable if asked). */
    private static boolean isCopyOf(TrustedDirectory dir, String name, EntryInfo entry, boolean writable)
            throws IOException {
        Path file = dir.resolve(name);
        Optional<FileIdentity> copy = FileIdentity.of(file);
        Optional<FileIdentity> original = FileIdentity.of(entry.path());
        if (copy.isEmpty() || (original.isPresent() && copy.get().sameFile(original.get()))) {
            return false;
        }
        if (writable && !ownerWritable(file)) {
            return false;
        }
        return copy.get().size() == entry.size()
                && Digest.of(dir, name).sha256().equals(entry.sha256());
    }

    private static boolean ownerWritable(Path file) throws IOException {
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS)
                    .contains(PosixFilePermission.OWNER_WRITE);
        }
        return Files.isWritable(file);
    }

    private static boolean tryLink(Path link, Path entry) throws IOException {
        try {
            Files.createLink(link, entry);
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        } catch (FileSystemException e) {
            if (TransientIo.isTransient(e)) {
                throw e;
            }
            return false; // another device, a read-only filesystem, or one without hard links: copy instead
        }
    }

    /** Opens a cache directory, turning I/O failures into {@link CacheIOException} with the path and a hint. */
    private static TrustedDirectory open(String operation, Path path, TransientIo.Step<TrustedDirectory> step) {
        return TransientIo.retry(operation, path, step);
    }

    private static void removeDebris(TrustedDirectory dir, String target) {
        for (String debris : TransientIo.retry(
                "list temporary files", dir.resolve(target), () -> EntryLayout.debrisAmong(dir.names(), target))) {
            Durability.deleteQuietly(dir, debris);
        }
    }
}
