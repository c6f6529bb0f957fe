package dev.lockcache.cli;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The names cache-core and the providers give files under a cache root, as {@code gc} must know them (cache-core
 * keeps its own {@code EntryLayout} package-private):
 *
 * <pre>
 * ROOT/locks/KEY.lock                         the key's lock file
 * ROOT/locks/KEY.lock.gen                     exclusive-create's fencing generation beside it
 * ROOT/locks/.KEY.lock.TOKEN.tmp              exclusive-create's owner record before it is linked into place
 * ROOT/locks/.KEY.lock.PURPOSE.HEX.removing   exclusive-create's record renamed away for removal
 * ROOT/entries/KEY/FILE                       the published entry
 * ROOT/entries/KEY/entry.properties           its metadata (kept: it carries the attempt count)
 * ROOT/entries/KEY/.NAME.HEX16.part           temporary files of a fetch in progress, or of a crashed one
 * ROOT/.write-test-HEX                        the root's writability probe, left by a crash
 * </pre>
 */
record CacheLayout(Path root) {

    static final String LOCK_SUFFIX = ".lock";
    static final String METADATA_FILE = "entry.properties";
    static final Pattern ENTRY_TEMP = Pattern.compile("\\..+\\.[0-9a-f]{16}\\.part");
    static final Pattern WRITE_TEST = Pattern.compile("\\.write-test-[0-9a-f]+");

    Path locks() {
        return root.resolve("locks");
    }

    Path entries() {
        return root.resolve("entries");
    }

    Path lockFile(String key) {
        return locks().resolve(key + LOCK_SUFFIX);
    }

    Path generationFile(String key) {
        return locks().resolve(key + LOCK_SUFFIX + ".gen");
    }

    Path entryDirectory(String key) {
        return entries().resolve(key);
    }

    /** The key of a lock file name, or empty when it is not one. */
    static java.util.Optional<String> keyOfLockFile(String name) {
        return name.endsWith(LOCK_SUFFIX) && !name.startsWith(".") && name.length() > LOCK_SUFFIX.length()
                ? java.util.Optional.of(name.substring(0, name.length() - LOCK_SUFFIX.length()))
                : java.util.Optional.empty();
    }

    /** Whether {@code name} in the locks directory is a provider's temporary file for {@code key}'s lock. */
    static boolean isLockTemp(String name, String key) {
        String prefix = "." + key + LOCK_SUFFIX + ".";
        return name.startsWith(prefix) && (name.endsWith(".tmp") || name.endsWith(".removing"));
    }
}
