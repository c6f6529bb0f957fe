package dev.lockcache.lock.spi;

import dev.lockcache.lock.OwnerRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Names for the scratch files a {@link LockProvider#probe} locks. Each probe gets a file of its own, removed
 * afterwards: with one shared name, two JVMs that start together and probe the same directory at once would
 * see each other's probe lock, judge the mechanism unavailable, and could then choose different providers for
 * the same lock directory — which would not exclude each other.
 */
public final class ProbeFiles {

    /** The prefix of every probe file; {@code lockcache gc} may remove leftovers of crashed probes. */
    public static final String PREFIX = ".lockcache-probe-";

    private ProbeFiles() {}

    /** A fresh, unused probe file name in {@code directory} for {@code provider}. */
    public static Path unique(Path directory, String provider) {
        return directory.resolve(PREFIX + provider + "." + OwnerRecord.newToken());
    }

    /** The file store type of {@code directory} ({@code ext4}, {@code nfs4}...), or {@code "unknown"}. */
    public static String storeType(Path directory) {
        try {
            return Files.getFileStore(directory).type();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Removes a probe file; a file that is already gone, or cannot be removed, is left to {@code gc}. */
    public static void remove(Path probeFile) {
        try {
            Files.deleteIfExists(probeFile);
        } catch (IOException e) {
            // harmless debris: never locked by anyone else, named for lockcache gc
        }
    }
}
