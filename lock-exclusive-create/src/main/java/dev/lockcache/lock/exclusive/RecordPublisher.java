package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.OwnerRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes an owner record at a lock path so that the path either does not exist or holds a complete record.
 *
 * <p>The record is written to {@code .<lock name>.<token>.tmp} beside the lock, forced where the filesystem
 * needs it (see {@link FileStoreKinds}), and hard-linked to the lock path; {@code link(2)} fails if the path
 * exists, which is the exclusion. The temporary name is then removed and the holder keeps the channel it
 * wrote through, now open on the lock's own file. Where the directory has no hard links, the record is
 * created at the lock path with {@code CREATE_NEW} and written there: readers may then see an empty file for
 * a moment, which reads as unreadable, never as a broken lock.
 *
 * <p>Once the lock is held, the generation file is advanced and, if the record's guess was wrong, the
 * record's fixed-width generation digits are rewritten in place. Any failure leaves neither the lock nor a
 * temporary file behind and is reported as a {@link LockIOException} naming the path and the step.
 */
final class RecordPublisher {

    private static final Logger LOG = LoggerFactory.getLogger(RecordPublisher.class);
    private static final byte[] GENERATION_KEY = "\ngeneration=".getBytes(StandardCharsets.US_ASCII);

    private final Linking linking;
    private final GenerationFile generations = new GenerationFile();
    private final FileStoreKinds stores = new FileStoreKinds();

    /** Whether {@code directory} is on a local filesystem (whose directory events report every release). */
    boolean isLocal(Path directory) {
        return stores.isLocal(directory);
    }

    private final boolean alwaysForce;
    private final Set<Path> withoutLinks = ConcurrentHashMap.newKeySet();

    RecordPublisher(Linking linking, boolean alwaysForce) {
        this.linking = linking;
        this.alwaysForce = alwaysForce;
    }

    /** A record file that now stands at the lock path, with the channel it was written through. */
    private record Published(FileChannel channel, Object fileKey) {}

    /**
     * Publishes a record for this process at {@code lockPath}.
     *
     * @return the hold, or empty if the path already holds a record
     * @throws LockIOException if any step failed; nothing is left behind
     */
    Optional<ExclusiveHold> tryPublish(Path lockPath, String operation) {
        if (lockPath.toFile().exists()) { // a cheap look first; Files.exists throws internally when absent
            return Optional.empty();
        }
        Path directory = lockPath.getParent();
        boolean force = alwaysForce || !stores.isLocal(directory);
        OwnerRecord record = OwnerRecord.forThisProcess(
                ExclusiveCreateLockProvider.NAME, LockMode.EXCLUSIVE, generations.guessNext(lockPath), operation);
        OwnerRecord.Encoded encoded = record.encode();
        Optional<Published> published = withoutLinks.contains(directory)
                ? createInPlace(lockPath, encoded, force)
                : createByLink(lockPath, record.token(), encoded, force);
        if (published.isEmpty()) {
            return Optional.empty();
        }
        FileChannel channel = published.get().channel();
        long generation;
        try {
            generation = generations.advance(lockPath);
            if (generation != record.generation()) {
                // The generation is written with the heartbeat's fixed width, so it can be replaced in place.
                writeFully(channel, OwnerRecord.Encoded.heartbeatDigits(generation), generationOffset(encoded));
            }
        } catch (IOException e) {
            unpublish(lockPath, published.get());
            throw new LockIOException(
                    "advance generation in " + GenerationFile.pathFor(lockPath),
                    lockPath,
                    "check that " + directory + " is writable; the lock was not taken",
                    e);
        }
        return Optional.of(new ExclusiveHold(
                lockPath,
                record.token(),
                generation,
                channel,
                published.get().fileKey(),
                encoded.heartbeatOffset(),
                force));
    }

    /** Whether publishing in {@code directory} has fallen back to create-exclusive (no hard links there). */
    boolean linksUnsupported(Path directory) {
        return withoutLinks.contains(directory);
    }

    private Optional<Published> createByLink(Path lockPath, String token, OwnerRecord.Encoded encoded, boolean force) {
        Path temp = lockPath.resolveSibling("." + lockPath.getFileName() + "." + token + ".tmp");
        FileChannel channel;
        try {
            channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw failure("create temporary owner record " + temp, lockPath, e);
        }
        boolean linked = false;
        try {
            Object fileKey;
            try {
                writeFully(channel, encoded.bytes(), 0);
                if (force) {
                    channel.force(false);
                }
                fileKey = RecordSnapshot.fileKey(temp);
            } catch (IOException e) {
                throw failure("write owner record to " + temp, lockPath, e);
            }
            try {
                linking.link(lockPath, temp);
            } catch (FileAlreadyExistsException e) {
                return Optional.empty();
            } catch (UnsupportedOperationException e) {
                return fallBackToCreate(lockPath, encoded, force, e.toString());
            } catch (FileSystemException e) {
                if (Linking.isUnsupported(e)) {
                    return fallBackToCreate(lockPath, encoded, force, e.toString());
                }
                throw failure("link owner record " + temp + " to the lock path", lockPath, e);
            } catch (IOException e) {
                throw failure("link owner record " + temp + " to the lock path", lockPath, e);
            }
            linked = true;
            return Optional.of(new Published(channel, fileKey));
        } finally {
            if (!linked) {
                closeQuietly(channel);
            }
            deleteTemp(temp);
        }
    }

    private Optional<Published> fallBackToCreate(
            Path lockPath, OwnerRecord.Encoded encoded, boolean force, String why) {
        if (withoutLinks.add(lockPath.getParent())) {
            LOG.info(
                    "no hard links in {} ({}); exclusive-create publishes records there with create-exclusive",
                    lockPath.getParent(),
                    why);
        }
        return createInPlace(lockPath, encoded, force);
    }

    private static Optional<Published> createInPlace(Path lockPath, OwnerRecord.Encoded encoded, boolean force) {
        FileChannel channel;
        try {
            channel = FileChannel.open(lockPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw failure("create owner record", lockPath, e);
        }
        try {
            writeFully(channel, encoded.bytes(), 0);
            if (force) {
                channel.force(false);
            }
            return Optional.of(new Published(channel, RecordSnapshot.fileKey(lockPath)));
        } catch (IOException e) {
            closeQuietly(channel);
            try {
                Files.deleteIfExists(lockPath);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw failure("write owner record", lockPath, e);
        }
    }

    /** Takes back a record this process just published. */
    private static void unpublish(Path lockPath, Published published) {
        try {
            RenameAway.remove(
                    lockPath, "undo", renamed -> Objects.equals(RecordSnapshot.fileKey(renamed), published.fileKey()));
        } catch (IOException e) {
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

    private static void deleteTemp(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            LOG.warn(
                    "could not delete temporary owner record {}: {}; it is debris, safe to delete", temp, e.toString());
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
