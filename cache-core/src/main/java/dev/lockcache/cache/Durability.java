package dev.lockcache.cache;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The steps that make a file durable and visible all at once: fsync, atomic rename, directory fsync. */
final class Durability {

    private static final Logger LOG = LoggerFactory.getLogger(Durability.class);

    private Durability() {}

    /** Forces {@code file}'s content and metadata to stable storage. */
    static void fsync(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    /**
     * Renames {@code temp} over {@code target} atomically (readers see the old file or the new one, never a
     * mix), retrying transient failures, then syncs the directory so the rename survives a crash.
     */
    static void publish(Path temp, Path target, String operation) {
        TransientIo.run(
                operation,
                target,
                () -> Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING));
        syncDirectory(target.getParent());
    }

    /** Syncs a directory's entries where the platform allows opening a directory (not on Windows). */
    static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows cannot open a directory as a channel; its renames are durable through NTFS's own journal
        }
    }

    /** Makes {@code file} read-only (0444) where the filesystem has POSIX modes. */
    static void makeReadOnly(Path file) throws IOException {
        setModeIfPosix(file, "r--r--r--");
    }

    /** Makes {@code file} owner-writable (0644) where the filesystem has POSIX modes. */
    static void makeWritable(Path file) throws IOException {
        setModeIfPosix(file, "rw-r--r--");
    }

    private static void setModeIfPosix(Path file, String mode) throws IOException {
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        }
    }

    /** Deletes {@code name} in {@code dir} if it is there, as {@link #deleteQuietly(Path)} does. */
    static void deleteQuietly(TrustedDirectory dir, String name) {
        try {
            TransientIo.run("remove temporary file", dir.resolve(name), () -> {
                dir.delete(name);
                return null;
            });
        } catch (CacheIOException e) {
            LOG.warn(
                    "could not remove temporary file {}; the next fetch of its key removes it: {}",
                    dir.resolve(name),
                    e.getMessage());
        }
    }

    /**
     * Deletes {@code file} if it exists, retrying transient failures. Used in {@code finally} blocks, so a
     * permanent failure is logged rather than thrown over the failure being reported; the next holder of the
     * key's lock removes what is left.
     */
    static void deleteQuietly(Path file) {
        try {
            TransientIo.run("remove temporary file", file, () -> Files.deleteIfExists(file));
        } catch (CacheIOException e) {
            LOG.warn(
                    "could not remove temporary file {}; the next fetch of its key removes it: {}",
                    file,
                    e.getMessage());
        }
    }
}
