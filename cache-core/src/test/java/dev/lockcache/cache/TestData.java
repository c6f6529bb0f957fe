package dev.lockcache.cache;

import dev.lockcache.lock.ProviderChoice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** Small helpers shared by the cache tests: bytes, digests, and looking for temporary debris. */
final class TestData {

    private TestData() {}

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every temporary file of the cache's making under {@code dirs}, recursively. */
    static List<Path> debris(Path... dirs) {
        List<Path> found = new ArrayList<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.filter(p -> p.getFileName().toString().endsWith(EntryLayout.TEMP_SUFFIX))
                        .forEach(found::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return found;
    }

    /** The metadata of {@code key} under the real cache {@code root}. */
    static EntryMetadata metadata(Path root, String key, Path entry) {
        try (TrustedDirectory r = TrustedDirectory.root(root, false);
                TrustedDirectory entries = r.child("entries", "entries", false);
                TrustedDirectory dir = entries.child(key, "entry", false)) {
            return EntryMetadata.read(dir, key, entry);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces the metadata of {@code key} under the real cache {@code root}. */
    static void writeMetadata(Path root, String key, EntryMetadata metadata) {
        try (TrustedDirectory r = TrustedDirectory.root(root, false);
                TrustedDirectory entries = r.child("entries", "entries", false);
                TrustedDirectory dir = entries.child(key, "entry", false)) {
            metadata.write(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A cache over {@code root} with the providers on the test class path, chosen by the default strategy. */
    static DatasetCache.Builder cache(Path root) {
        return DatasetCache.builder().root(root).providerChoice(ProviderChoice.automatic());
    }
}
