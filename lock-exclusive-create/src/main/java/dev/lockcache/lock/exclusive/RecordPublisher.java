package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockException;
import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.OwnerRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes an owner record at a lock path so that the path either does not exist or holds a complete record,
 * and issues the acquisition's fencing token so that no two acquisitions ever share one.
 *
 * <p>The record is written to {@code .<lock name>.<token>.tmp}, created in the open {@link LockDirectory}
 * (create-new, no-follow, lockcache's file mode), forced where the filesystem needs it (see {@link
 * FileStoreKinds}), and hard-linked to the lock path; {@code link(2)} fails if the path exists, which is the
 * exclusion. The temporary name is then removed and the holder keeps the channel it wrote through, now open on
 * the lock's own file. Where the directory has no hard links, the record is created at the lock path with
 * create-new and written there: readers may then see an empty file for a moment, which reads as unreadable,
 * never as a broken lock.
 *
 * <p>Holding the lock, the publisher reads the largest generation issued ({@link GenerationFile}), takes the
 * next one, rewrites the record's fixed-width generation digits if the record's guess was wrong, appends the
 * generation to the generation file, and only then checks that the lock path still names its record and that
 * no breaker is at work ({@code <lock>.break} absent). A publisher that fails this check was broken (or raced a
 * breaker) before its generation was safely recorded: it takes back its record if it is still there and
 * reports the lock as busy; its token is never issued. Any failure leaves neither the lock nor a temporary
 * file behind and is reported as a {@link LockIOException} naming the path and the step.
 */
final class RecordPublisher {

    private static final Logger LOG = LoggerFactory.getLogger(RecordPublisher.class);
    private static final byte[] GENERATION_KEY = "\ngeneration=".getBytes(StandardCharsets.US_ASCII);

    /** The test hook between publishing a record and recording its generation. */
    @FunctionalInterface
    interface Pause {
        Pause NONE = lockPath -> {};

        void afterPublishing(Path lockPath) throws IOException;
    }

    private final Linking linking;
    private final Pause pause;
    private final GenerationFile generations = new GenerationFile();
    private final FileStoreKinds stores = new FileStoreKinds();
    private final boolean alwaysForce;
    private final Set<Path> withoutLinks = ConcurrentHashMap.newKeySet();

    RecordPublisher(Linking linking, boolean alwaysForce, Pause pause) {
        this.linking = linking;
        this.alwaysForce = alwaysForce;
        this.pause = pause;
    }

    /** Whether {@code directory} is on a local filesystem (whose directory events report every release). */
    boolean isLocal(Path directory) {
        return stores.isLocal(directory);
    }

    /** A record file that now stands at the lock path, with the channel it was written through. */
    private record Published(FileChannel channel, Object fileKey) {}

    /**
     * Publishes a record for this process at {@code lockPath}, whose directory is {@code directory}; on success
     * the hold owns {@code directory}.
     *
     * @return the hold, or empty if the path already holds a record (or this attempt lost it to a breaker)
     * @throws LockIOException if any step failed; nothing is left behind
     */
    Optional<ExclusiveHold> tryPublish(LockDirectory directory, Path lockPath, String operation) {
        String name = lockPath.getFileName().toString();
        boolean force = alwaysForce || !stores.isLocal(directory.path());
        OwnerRecord record = OwnerRecord.forThisProcess(
                ExclusiveCreateLockProvider.NAME, LockMode.EXCLUSIVE, generations.guessNext(lockPath), operation);
        OwnerRecord.Encoded encoded = record.encode();
        Optional<Published> published = withoutLinks.contains(directory.path())
                ? createInPlace(directory, lockPath, encoded, force)
                : createByLink(directory, lockPath, record.token(), encoded, force);
        if (published.isEmpty()) {
            return Optional.empty();
        }
        FileChannel channel = published.get().channel();
        Object fileKey = published.get().fileKey();
        long generation;
        try {
            generation = generations.next(directory, lockPath);
            if (generation != record.generation()) {
                // The generation is written with the heartbeat's fixed width, so it can be replaced in place.
                writeFully(channel, OwnerRecord.Encoded.heartbeatDigits(generation), generationOffset(encoded));
                if (force) {
                    channel.force(false);
                }
            }
            pause.afterPublishing(lockPath);
            generations.append(directory, lockPath, generation);
            Optional<String> lost = stillHeld(directory, name, fileKey);
            if (lost.isPresent()) {
                LOG.debug("gave up the record just published at {}: {}", lockPath, lost.get());
                unpublish(directory, lockPath, published.get());
                return Optional.empty();
            }
            generations.compactIfLarge(directory, lockPath, record.token());
        } catch (IOException e) {
            unpublish(directory, lockPath, published.get());
            throw new LockIOException(
                    "advance generation in " + GenerationFile.pathFor(lockPath),
                    lockPath,
                    "check that " + directory.path() + " is writable; the lock was not taken",
                    e);
        } catch (RuntimeException e) {
            unpublish(directory, lockPath, published.get());
            throw e;
        }
        return Optional.of(new ExclusiveHold(
                lockPath,
                directory,
                record.token(),
                generation,
                channel,
                fileKey,
                encoded.heartbeatOffset(),
                force,
                linking));
    }

    /**
     * Why the record with identity {@code fileKey} no longer holds the lock {@code name}, if it does not: it is
     * gone or replaced, or a breaker holds the guard (it judged an earlier record and must find the path
     * changed, not have a fresh record moved under it).
     */
    private static Optional<String> stillHeld(LockDirectory directory, String name, Object fileKey) throws IOException {
        Object now = directory.keyInDirectory(name);
        if (now == null) {
            return Optional.of("the record was removed (broken) before its generation was recorded");
        }
        if (!Objects.equals(now, fileKey)) {
            return Optional.of("the record was replaced before its generation was recorded");
        }
        if (directory.keyInDirectory(LockBreaker.guardName(name)) != null) {
            return Optional.of("a breaker is at work on this lock");
        }
        return Optional.empty();
    }

    /** Whether publishing in {@code directory} has fallen back to create-exclusive (no hard links there). */
    boolean linksUnsupported(Path directory) {
        return withoutLinks.contains(directory);
    }

    private Optional<Published> createByLink(
            LockDirectory directory, Path lockPath, String token, OwnerRecord.Encoded encoded, boolean force) {
        String name = lockPath.getFileName().toString();
        String temp = "." + name + "." + token + ".tmp";
        FileChannel channel;
        try {
            channel = directory.create(temp);
        } catch (IOException e) {
            throw failure("create temporary owner record " + directory.resolve(temp), lockPath, e);
        }
        boolean linked = false;
        try {
            Object fileKey;
            try {
                writeFully(channel, encoded.bytes(), 0);
                if (force) {
                    channel.force(false);
                }
                fileKey = directory.keyInDirectory(temp);
            } catch (IOException e) {
                throw failure("write owner record to " + directory.resolve(temp), lockPath, e);
            }
            try {
                directory.link(linking, name, temp, fileKey);
            } catch (FileAlreadyExistsException e) {
                return Optional.empty();
            } catch (UnsupportedOperationException e) {
                return fallBackToCreate(directory, lockPath, encoded, force, e.toString());
            } catch (FileSystemException e) {
                if (Linking.isUnsupported(e)) {
                    return fallBackToCreate(directory, lockPath, encoded, force, e.toString());
                }
                throw failure("link owner record " + directory.resolve(temp) + " to the lock path", lockPath, e);
            } catch (IOException e) {
                throw failure("link owner record " + directory.resolve(temp) + " to the lock path", lockPath, e);
            }
            linked = true;
            return Optional.of(new Published(channel, fileKey));
        } finally {
            if (!linked) {
                closeQuietly(channel);
            }
            deleteTemp(directory, temp);
        }
    }

    private Optional<Published> fallBackToCreate(
            LockDirectory directory, Path lockPath, OwnerRecord.Encoded encoded, boolean force, String why) {
        if (withoutLinks.add(directory.path())) {
            LOG.info(
                    "no hard links in {} ({}); exclusive-create publishes records there with create-exclusive",
                    directory.path(),
                    why);
        }
        return createInPlace(directory, lockPath, encoded, force);
    }

    private static Optional<Published> createInPlace(
            LockDirectory directory, Path lockPath, OwnerRecord.Encoded encoded, boolean force) {
        String name = lockPath.getFileName().toString();
        FileChannel channel;
        try {
            channel = directory.create(name);
        } catch (FileAlreadyExistsException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw failure("create owner record", lockPath, e);
        }
        Object fileKey = null;
        try {
            fileKey = directory.keyInDirectory(name);
            writeFully(channel, encoded.bytes(), 0);
            if (force) {
                channel.force(false);
            }
            return Optional.of(new Published(channel, fileKey));
        } catch (IOException e) {
            closeQuietly(channel);
            try {
                RenameAway.removeOwn(directory, name, "undo", fileKey, Linking.JDK);
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw failure("write owner record", lockPath, e);
        }
    }

    /** Takes back a record this process just published, if it still stands at the path. */
    private void unpublish(LockDirectory directory, Path lockPath, Published published) {
        try {
            RenameAway.removeOwn(directory, lockPath.getFileName().toString(), "undo", published.fileKey(), linking);
        } catch (IOException | LockException e) {
            LOG.warn("could not take back the record just published at {}: {}", lockPath, e.toString());
        } finally {
            closeQuietly(published.channel());
        }
    }

    private static int generationOffset(OwnerRecord.Encoded encoded) {
        byte[] bytes = encoded.bytes();
        outer:
        for (int i = 0; i <= bytes.length - GENERATION_KEY.length; i++) {
            for (int j = 0; j < GENERATION_KEY.length; j++) {
                if (bytes[i + j] != GENERATION_KEY[j]) {
                    continue outer;
                }
            }
            return i + GENERATION_KEY.length;
        }
        throw new IllegalStateException("an encoded owner record has no generation line");
    }

    static void writeFully(FileChannel channel, byte[] bytes, long position) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer, position + buffer.position());
        }
    }

    private static void deleteTemp(LockDirectory directory, String temp) {
        try {
            directory.deleteIfExists(temp);
        } catch (IOException e) {
            LOG.warn(
                    "could not delete temporary owner record {}: {}; it is debris, safe to delete",
                    directory.resolve(temp),
                    e.toString());
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was written through it that matters any more
        }
    }

    private static LockIOException failure(String operation, Path lockPath, IOException e) {
        return new LockIOException(
                operation, lockPath, "check that " + lockPath.getParent() + " is writable and has free space", e);
    }
}
