package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.spi.FileSystemKinds;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tells, per directory, whether written bytes are visible to every process that opens the file before they
 * are forced to storage. On a local filesystem the page cache is shared, so a record written before its link
 * exists is complete for every reader; on NFS, SMB, FUSE and anything unknown the client may hold writes
 * back until {@code fsync}, so the record must be forced before it is published. Answers are cached per
 * directory (a few hundred at most).
 */
final class FileStoreKinds {

    private static final int MAX_REMEMBERED = 512;

    private final ConcurrentHashMap<Path, Boolean> local = new ConcurrentHashMap<>();

    /** The file store type of {@code directory}, or {@code "unknown"}. */
    static String typeOf(Path directory) {
        return FileSystemKinds.typeOf(directory);
    }

    /** Whether {@code directory} is on a filesystem known to be local (see the class comment). */
    boolean isLocal(Path directory) {
        Boolean known = local.get(directory);
        if (known != null) {
            return known;
        }
        boolean answer = FileSystemKinds.isLocal(typeOf(directory));
        if (local.size() >= MAX_REMEMBERED) {
            local.clear();
        }
        local.put(directory, answer);
        return answer;
    }
}
