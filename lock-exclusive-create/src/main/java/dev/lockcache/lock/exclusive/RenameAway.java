package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Removes a file only if it is the one the caller means, without a compare-then-delete race.
 *
 * <p>Checking a file and then deleting its name is racy: between the two steps the file may be replaced and
 * the delete would remove the newcomer. Instead the name is first renamed to a unique name in the same
 * directory ({@code renameat} through the open {@link LockDirectory}: from that moment the file is out of
 * everybody's way, and a new file created at the name is untouched by anything that follows), then the
 * renamed file is checked. If it is not the expected one, it is put back with {@code link(2)}, which fails
 * rather than overwrite a file that was created at the name in the meantime; that short window, between two
 * system calls and only when the expected file had already been replaced, is the one left open, and it is
 * reported as {@link Outcome.Kind#FOREIGN_LOST}. Callers narrow it further by checking identity just before
 * (see {@link LockBreaker}).
 */
final class RenameAway {

    private RenameAway() {}

    /** Tells whether the renamed file (named {@code renamed} in the directory) is the one the caller meant. */
    @FunctionalInterface
    interface Check {
        boolean isExpected(String renamed) throws IOException;

        /** The file whose identity is {@code fileKey}; an identity nobody has ({@code null}) matches nothing. */
        static Check identity(LockDirectory directory, Object fileKey) {
            return renamed -> fileKey != null && Objects.equals(directory.keyInDirectory(renamed), fileKey);
        }
    }

    /** What happened. */
    record Outcome(Kind kind, LockOwner found) {
        enum Kind {
            /** The expected file was removed. */
            REMOVED,
            /** Nothing was at the name. */
            ABSENT,
            /** Another file was at the name; it was put back. */
            FOREIGN_RESTORED,
            /** Another file was at the name and could not be put back (a newcomer took the name). */
            FOREIGN_LOST,
            /** Another file was at the name before anything was done; it was not touched. */
            FOREIGN_UNTOUCHED
        }
    }

    /** The unique name a file is renamed to while it is checked. */
    static String awayName(String name, String purpose) {
        return "." + name + "." + purpose + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".removing";
    }

    /**
     * {@link #remove} of the file with identity {@code fileKey}, but only if {@code name} names that file right
     * before the rename: another holder's record is never moved, except when it replaces this one in the
     * instant between the look and the rename (then it is put back at once).
     */
    static Outcome removeOwn(LockDirectory directory, String name, String purpose, Object fileKey, Linking linking)
            throws IOException {
        Object now = directory.keyInDirectory(name);
        if (now == null) {
            return new Outcome(Outcome.Kind.ABSENT, new LockOwner.Absent());
        }
        if (fileKey == null || !Objects.equals(now, fileKey)) {
            return new Outcome(Outcome.Kind.FOREIGN_UNTOUCHED, describe(directory, name));
        }
        return remove(directory, name, purpose, Check.identity(directory, fileKey), linking);
    }

    /**
     * Renames {@code name} away, checks it with {@code check}, and deletes it if expected, else puts it back.
     *
     * @param purpose a word for the temporary name ({@code release}, {@code break}...), for people reading a
     *     directory listing after a crash
     */
    static Outcome remove(LockDirectory directory, String name, String purpose, Check check, Linking linking)
            throws IOException {
        String renamed = awayName(name, purpose);
        try {
            directory.rename(name, renamed);
        } catch (NoSuchFileException e) {
            return new Outcome(Outcome.Kind.ABSENT, new LockOwner.Absent());
        }
        boolean expected;
        try {
            expected = check.isExpected(renamed);
        } catch (IOException | RuntimeException e) {
            putBack(directory, renamed, name, linking);
            throw e;
        }
        if (expected) {
            directory.delete(renamed);
            return new Outcome(Outcome.Kind.REMOVED, new LockOwner.Absent());
        }
        LockOwner found = describe(directory, renamed);
        return new Outcome(
                putBack(directory, renamed, name, linking) ? Outcome.Kind.FOREIGN_RESTORED : Outcome.Kind.FOREIGN_LOST,
                found);
    }

    private static LockOwner describe(LockDirectory directory, String renamed) {
        try {
            Optional<LockDirectory.Content> content = directory.read(renamed, OwnerRecord.MAX_BYTES + 1, "record", 2);
            return content.map(c -> OwnerRecord.parse(c.bytes(), c.bytes().length))
                    .orElse(new LockOwner.Absent());
        } catch (IOException | RuntimeException e) {
            return new LockOwner.Unreadable("cannot read " + directory.resolve(renamed) + ": " + e.getMessage());
        }
    }

    /** Puts {@code renamed} back at {@code name} unless a newcomer holds it; the renamed name is gone after. */
    private static boolean putBack(LockDirectory directory, String renamed, String name, Linking linking)
            throws IOException {
        Object key = directory.keyInDirectory(renamed);
        try {
            directory.link(linking, name, renamed, key);
        } catch (FileAlreadyExistsException e) {
            directory.deleteIfExists(renamed);
            return false;
        } catch (UnsupportedOperationException | FileSystemException e) {
            if (e instanceof FileSystemException fse && !Linking.isUnsupported(fse)) {
                throw fse;
            }
            // No hard links here: a plain rename back, which on POSIX would replace a newcomer, so check first.
            if (directory.keyInDirectory(name) != null) {
                directory.deleteIfExists(renamed);
                return false;
            }
            directory.rename(renamed, name);
            return true;
        }
        directory.deleteIfExists(renamed);
        return true;
    }
}
