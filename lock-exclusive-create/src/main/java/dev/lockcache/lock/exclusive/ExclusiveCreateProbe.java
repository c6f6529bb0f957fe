package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.ProbeResult;
import dev.lockcache.lock.spi.ProbeResult.Verdict;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Proves on a directory that exclusive create excludes there: a probe file is created exclusively, and a
 * second, independent exclusive create of the same name must fail; then a hard link onto a taken name must
 * fail too, or hard links must be missing altogether (the provider then falls back to create-exclusive).
 * The probe files are unique per probe and removed afterwards.
 */
final class ExclusiveCreateProbe {

    private ExclusiveCreateProbe() {}

    static ProbeResult probe(Path directory, Linking linking) {
        String type = FileStoreKinds.typeOf(directory);
        String stem = ".lockcache-exclusive-create-probe." + OwnerRecord.newToken();
        Path first = directory.resolve(stem);
        Path second = directory.resolve(stem + ".link");
        try {
            try {
                Files.newByteChannel(first, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                        .close();
            } catch (IOException e) {
                return new ProbeResult(
                        directory,
                        Verdict.UNAVAILABLE,
                        type,
                        "cannot create a file in " + directory + " (" + e + "); exclusive-create needs a writable"
                                + " directory");
            }
            try {
                Files.newByteChannel(first, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                        .close();
                return new ProbeResult(
                        directory,
                        Verdict.DOES_NOT_EXCLUDE,
                        type,
                        "a second exclusive create of " + first + " succeeded: this " + type
                                + " filesystem does not honour O_EXCL, do not use exclusive-create here");
            } catch (FileAlreadyExistsException expected) {
                // the exclusion we need
            }
            Optional<String> links = linkVerdict(first, second, linking);
            if (links.isEmpty()) {
                return new ProbeResult(
                        directory,
                        Verdict.DOES_NOT_EXCLUDE,
                        type,
                        "a hard link onto the taken name " + second + " succeeded twice: this " + type
                                + " filesystem does not honour link(2) exclusion, do not use exclusive-create here");
            }
            return new ProbeResult(
                    directory,
                    Verdict.EXCLUDES,
                    type,
                    "a second exclusive create of a probe file in this " + type + " directory failed as it must; "
                            + links.get());
        } catch (IOException e) {
            return new ProbeResult(directory, Verdict.UNAVAILABLE, type, "the probe in " + directory + " failed: " + e);
        } finally {
            deleteQuietly(second);
            deleteQuietly(first);
        }
    }

    /** Describes hard-link support, or is empty when a link onto a taken name succeeded (links lie). */
    private static Optional<String> linkVerdict(Path first, Path second, Linking linking) throws IOException {
        try {
            linking.link(second, first);
        } catch (UnsupportedOperationException e) {
            return Optional.of("hard links are not supported, records are published with create-exclusive (" + e + ")");
        } catch (FileSystemException e) {
            if (Linking.isUnsupported(e)) {
                return Optional.of("hard links are not supported, records are published with create-exclusive ("
                        + e.getReason() + ")");
            }
            throw e;
        }
        try {
            linking.link(second, first);
            return Optional.empty();
        } catch (FileAlreadyExistsException expected) {
            return Optional.of(
                    "hard links work and a link onto a taken name fails, so records are published by link(2)");
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a leftover probe file is harmless: its name is unique
        }
    }
}
