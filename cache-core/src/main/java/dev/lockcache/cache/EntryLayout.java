package dev.lockcache.cache;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where things live under a cache root:
 *
 * <pre>
 * ROOT/locks/KEY.lock                  the key's lock file (kept between uses)
 * ROOT/entries/KEY/FILE                the published entry, read-only
 * ROOT/entries/KEY/entry.properties    its metadata
 * ROOT/entries/KEY/.NAME.RANDOM.part   temporary files of a fetch in progress (or of a crashed one)
 * ROOT/entries/KEY/.FILE.incomplete    a download in progress, or kept by one that stopped short, for resuming
 * ROOT/entries/KEY/.FILE.incomplete.properties  which source and version (ETag/Last-Modified) it holds
 * </pre>
 *
 * Temporary files of a mirror lie beside the requested path as {@code .NAME.RANDOM.part} too. Only holders of
 * the key's lock create or remove them, so a holder may delete any it finds: their writers are gone.
 */
record EntryLayout(Path root) {

    static final String TEMP_SUFFIX = ".part";
    static final String METADATA_FILE = "entry.properties";
    static final String LOCKS = "locks";
    static final String ENTRIES = "entries";

    Path locksDirectory() {
        return root.resolve(LOCKS);
    }

    Path lockFile(String key) {
        return locksDirectory().resolve(key + ".lock");
    }

    Path entriesDirectory() {
        return root.resolve(ENTRIES);
    }

    Path entryDirectory(String key) {
        return entriesDirectory().resolve(key);
    }

    Path entryFile(DatasetSpec spec) {
        return entryDirectory(spec.key()).resolve(spec.fileName());
    }

    Path metadataFile(String key) {
        return entryDirectory(key).resolve(METADATA_FILE);
    }

    /** A fresh, unused name for a temporary file beside {@code target}. */
    static Path tempSibling(Path target) {
        return target.resolveSibling(tempName(target.getFileName().toString()));
    }

    /** A fresh, unused name for a temporary file beside a file named {@code target}. */
    static String tempName(String target) {
        String random = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        return "." + target + "." + random + TEMP_SUFFIX;
    }

    /** Of {@code names} (a directory's listing), the temporary files made for a target named {@code target}. */
    static List<String> debrisAmong(List<String> names, String target) {
        List<String> found = new ArrayList<>();
        for (String name : names) {
            if (isTempOf(name, target)) {
                found.add(name);
            }
        }
        return found;
    }

    /** Whether {@code name} is a temporary file made by {@link #tempSibling} for a target named {@code target}. */
    static boolean isTempOf(String name, String target) {
        return name.startsWith("." + target + ".")
                && name.endsWith(TEMP_SUFFIX)
                && name.length() == target.length() + 2 + 16 + TEMP_SUFFIX.length();
    }

    /** The temporary files beside {@code target} that a crashed holder left behind (there must be no live one). */
    static List<Path> debrisBeside(Path target) throws IOException {
        List<Path> found = new ArrayList<>();
        Path dir = target.getParent();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        String name = target.getFileName().toString();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, ".*" + TEMP_SUFFIX)) {
            for (Path file : files) {
                if (isTempOf(file.getFileName().toString(), name)) {
                    found.add(file);
                }
            }
        }
        return found;
    }
}
