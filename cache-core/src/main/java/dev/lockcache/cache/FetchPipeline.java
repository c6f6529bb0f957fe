package dev.lockcache.cache;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.Optional;

/**
 * The work done inside a key's lock: policy, fetch to a temporary file, verify, fsync, atomic publish,
 * metadata, mirror. Holding the lock is the caller's job; everything here assumes it.
 */
final class FetchPipeline {

    private final SourceFetcher fetcher;

    FetchPipeline(SourceFetcher fetcher) {
        this.fetcher = fetcher;
    }

    /**
     * The answer to a fetch that needs no lock: under {@code IF_MISSING} or {@code NEVER}, when the entry is
     * published, matches {@code spec}, and the requested path (if any) already is a hard link to it. Entries
     * and mirrors are only ever replaced by atomic renames of complete, verified files, so what this sees
     * without the lock is either the published entry or its verified successor, never a partial file. Anything
     * else (no entry, a stale or missing mirror, a writable copy asked for, {@code ALWAYS}) returns empty and
     * goes through the lock; so does a key with crash debris beside its entry or mirror, which the locked path
     * removes.
     */
    Optional<Path> warmHit(EntryLayout layout, DatasetSpec spec, Optional<Path> requested, FetchOptions options) {
        if (options.policy() == FetchPolicy.ALWAYS || options.writableMirror()) {
            return Optional.empty();
        }
        Path entry = layout.entryFile(spec);
        Optional<EntryInfo> current = EntryMetadata.read(layout.metadataFile(spec.key()), spec.key(), entry)
                .published()
                .filter(info -> matches(info, spec, entry));
        if (current.isEmpty()) {
            return Optional.empty();
        }
        try {
            if (!EntryLayout.debrisBeside(entry).isEmpty()) {
                return Optional.empty(); // a crashed fetch left a temp file: the locked path removes it
            }
            if (requested.isEmpty() || requested.get().equals(entry)) {
                return Optional.of(entry);
            }
            boolean linked = Files.isSameFile(requested.get(), entry);
            return linked && EntryLayout.debrisBeside(requested.get()).isEmpty() ? requested : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // no mirror yet, or it cannot be looked at: the locked path deals with it
        }
    }

    /**
     * Applies {@code options.policy()} to {@code spec} and returns the path the caller may read.
     *
     * @param notedAttempts the key's attempt counter as read before waiting for the lock
     * @param provider the name of the provider whose lock is held
     * @param token that lock's fencing token
     */
    Path fetchLocked(
            EntryLayout layout,
            DatasetSpec spec,
            Optional<Path> requested,
            FetchOptions options,
            long notedAttempts,
            String provider,
            long token) {
        String key = spec.key();
        Path entry = layout.entryFile(spec);
        Path metadataFile = layout.metadataFile(key);
        ensureDirectory(entry.getParent(), "create entry directory");
        removeDebris(entry);
        removeDebris(metadataFile);
        requested.ifPresent(FetchPipeline::removeDebris);

        EntryMetadata metadata = EntryMetadata.read(metadataFile, key, entry);
        Optional<EntryInfo> current = metadata.published().filter(info -> matches(info, spec, entry));
        boolean fetch;
        switch (options.policy()) {
            case IF_MISSING -> fetch = current.isEmpty();
            case ALWAYS ->
                fetch = current.map(info -> info.refresh() <= notedAttempts).orElse(true);
            case NEVER -> {
                if (current.isEmpty()) {
                    throw new CacheOfflineException(key, layout.root(), entry);
                }
                fetch = false;
            }
            default -> throw new IllegalStateException("unknown policy " + options.policy());
        }
        EntryInfo info = fetch ? publish(spec, entry, metadataFile, metadata, provider, token, options) : current.get();
        if (requested.isEmpty()) {
            return entry;
        }
        mirror(info, requested.get(), options.writableMirror());
        return requested.get();
    }

    private EntryInfo publish(
            DatasetSpec spec,
            Path entry,
            Path metadataFile,
            EntryMetadata metadata,
            String provider,
            long token,
            FetchOptions options) {
        String key = spec.key();
        String source = spec.source().describe();
        refuseIfFenced(metadata, key, entry, provider, token);
        EntryMetadata started = metadata.startAttempt(provider, token);
        started.write(metadataFile);
        Path temp = EntryLayout.tempSibling(entry);
        try {
            TransientIo.run("create temporary file", temp, () -> Files.createFile(temp));
            fetchSource(spec, temp, entry, options.progress());
            TransientIo.run("sync fetched file", temp, () -> {
                Durability.fsync(temp);
                return null;
            });
            Digest digest = TransientIo.retry("verify fetched file", temp, () -> Digest.of(temp));
            verify(spec, entry, digest);
            TransientIo.run("make entry read-only", temp, () -> {
                Durability.makeReadOnly(temp);
                return null;
            });
            refuseIfFenced(EntryMetadata.read(metadataFile, key, entry), key, entry, provider, token);
            Durability.publish(temp, entry, "publish entry");
            EntryInfo info = new EntryInfo(
                    key,
                    entry,
                    source,
                    digest.sha256(),
                    digest.size(),
                    provider,
                    token,
                    started.attempts(),
                    Instant.now());
            started.publish(info).write(metadataFile);
            return info;
        } finally {
            Durability.deleteQuietly(temp);
        }
    }

    private void fetchSource(DatasetSpec spec, Path temp, Path entry, ProgressListener progress) {
        String source = spec.source().describe();
        try {
            fetcher.fetchInto(spec, temp, progress);
        } catch (InterruptedException | InterruptedIOException e) {
            Thread.currentThread().interrupt();
            throw new CacheFetchException(spec.key(), source, entry, "interrupted", e);
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

    private static void refuseIfFenced(EntryMetadata metadata, String key, Path entry, String provider, long token) {
        if (metadata.fencesOut(provider, token)) {
            throw new CacheFencingException(key, entry, token, metadata.fenceToken());
        }
    }

    /** Whether the recorded entry is on disk and is what {@code spec} describes now. */
    private static boolean matches(EntryInfo info, DatasetSpec spec, Path entry) {
        try {
            return Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)
                    && Files.size(entry) == info.size()
                    && info.source().equals(spec.source().describe())
                    && spec.sha256().map(info.sha256()::equals).orElse(true)
                    && (spec.size().isEmpty() || spec.size().getAsLong() == info.size());
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Makes {@code requested} show the entry's bytes: a hard link to the read-only entry, or a copy where links
     * fail (or {@code writable} asks for one), placed by an atomic rename. Does nothing when it already does.
     */
    private static void mirror(EntryInfo entry, Path requested, boolean writable) {
        if (requested.equals(entry.path())) {
            return;
        }
        ensureDirectory(requested.getParent(), "create directory for mirror");
        boolean exists = Files.isRegularFile(requested, LinkOption.NOFOLLOW_LINKS);
        if (!writable
                && exists
                && TransientIo.retry("inspect mirror", requested, () -> Files.isSameFile(requested, entry.path()))) {
            return;
        }
        Path temp = EntryLayout.tempSibling(requested);
        try {
            boolean linked = !writable && TransientIo.retry("link mirror", temp, () -> tryLink(temp, entry.path()));
            if (!linked) {
                if (exists
                        && TransientIo.retry("inspect mirror", requested, () -> isCopyOf(requested, entry, writable))) {
                    return;
                }
                TransientIo.run("copy entry to mirror", temp, () -> {
                    Files.copy(entry.path(), temp);
                    if (writable) {
                        Durability.makeWritable(temp);
                    } else {
                        Durability.makeReadOnly(temp);
                    }
                    Durability.fsync(temp);
                    return null;
                });
            }
            Durability.publish(temp, requested, "replace mirror");
        } finally {
            Durability.deleteQuietly(temp); // left behind when the mirror already was a link to the same inode
        }
    }

    /** Whether {@code file} is a separate copy with the entry's bytes (and owner-writable if asked). */
    private static boolean isCopyOf(Path file, EntryInfo entry, boolean writable) throws IOException {
        if (Files.isSameFile(file, entry.path()) || (writable && !ownerWritable(file))) {
            return false;
        }
        return Files.size(file) == entry.size() && Digest.of(file).sha256().equals(entry.sha256());
    }

    private static boolean ownerWritable(Path file) throws IOException {
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return Files.getPosixFilePermissions(file).contains(PosixFilePermission.OWNER_WRITE);
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
            return false; // another device, or a filesystem without hard links: copy instead
        }
    }

    private static void ensureDirectory(Path dir, String operation) {
        if (!Files.isDirectory(dir)) {
            TransientIo.run(operation, dir, () -> Files.createDirectories(dir));
        }
    }

    private static void removeDebris(Path target) {
        for (Path debris : TransientIo.retry("list temporary files", target, () -> EntryLayout.debrisBeside(target))) {
            Durability.deleteQuietly(debris);
        }
    }
}
