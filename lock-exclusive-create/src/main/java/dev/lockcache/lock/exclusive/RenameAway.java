package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.spi.LockProvider;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Removes a file only if it is the one the caller means, without a compare-then-delete race.
 *
 * <p>Checking a file and then deleting its path is racy: between the two steps the file may be replaced and
 * the delete would remove the newcomer. Instead the path is first renamed to a unique name in the same
 * directory (atomic: from that moment the file is out of everybody's way and no longer at the path, and a new
 * file created at the path is untouched by anything that follows), then the renamed file is checked. If it
 * is not the expected one, it is put back with {@code link(2)}, which fails rather than overwrite a file that
 * was created at the path in the meantime; that short window, and only when the expected file had already
 * been replaced, is the one left open, and it is reported as {@link Outcome.Kind#FOREIGN_LOST}.
 */
final class RenameAway {

    private RenameAway() {}

    /** Tells whether a renamed file is the one the caller meant. */
    @FunctionalInterface
    interface Check {
        boolean isExpected(Path renamed) throws IOException;
    }

    /** What happened. */
    record Outcome(Kind kind, LockOwner found) {
        enum Kind {
            /** The expected file was removed. */
            REMOVED,
            /** Nothing was at the path. */
            ABSENT,
            /** Another file was at the path; it was put back. */
            FOREIGN_RESTORED,
            /** Another file was at the path and could not be put back (a newcomer took the path). */
            FOREIGN_LOST
        }
    }

    /**
     * Renames {@code path} away, checks it with {@code check}, and deletes it if expected, else puts it back.
     *
     * @param purpose a word for the temporary name ({@code release}, {@code break}...), for people reading a
     *     directory listing after a crash
     */
    static Outcome remove(Path path, String purpose, Check check) throws IOException {
        Path renamed = path.resolveSibling("." + path.getFileName() + "." + purpose + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".removing");
        try {
            Files.move(path, renamed, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return new Outcome(Outcome.Kind.ABSENT, new LockOwner.Absent());
        }
        boolean expected;
        try {
            expected = check.isExpected(renamed);
        } catch (IOException | RuntimeException e) {
            putBack(renamed, path);
            throw e;
        }
        if (expected) {
            Files.delete(renamed);
            return new Outcome(Outcome.Kind.REMOVED, new LockOwner.Absent());
        }
        LockOwner found = LockProvider.readOwnerRecordFile(renamed);
        return new Outcome(putBack(renamed, path) ? Outcome.Kind.FOREIGN_RESTORED : Outcome.Kind.FOREIGN_LOST, found);
    }

    /** Puts {@code renamed} back at {@code path} unless a newcomer holds the path; the renamed name is gone after. */
    private static boolean putBack(Path renamed, Path path) throws IOException {
        try {
            Files.createLink(path, renamed);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(renamed);
            return false;
        } catch (UnsupportedOperationException | FileSystemException e) {
            if (e instanceof FileSystemException fse && !Linking.isUnsupported(fse)) {
                throw fse;
            }
            // No hard links here: a plain rename back, which on POSIX would replace a newcomer, so check first.
            if (Files.exists(path)) {
                Files.deleteIfExists(renamed);
                return false;
            }
            Files.move(renamed, path, StandardCopyOption.ATOMIC_MOVE);
            return true;
        }
        Files.deleteIfExists(renamed);
        return true;
    }
}
