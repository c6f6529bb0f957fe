package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.OwnerRecord;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Breaks a stale lock so that of many concurrent breakers exactly one wins, and acts only on the exact record
 * it judged: never on a lock that became fresh after it was judged, never on another holder's record.
 *
 * <p>A breaker first takes a guard, {@code <lock>.break}, by exclusive create (no-follow, lockcache's file
 * mode): breakers in all processes therefore go one at a time, and a publisher that finds a guard after it
 * published withdraws (see {@link RecordPublisher}), so nobody gets a token while a breaker is at work.
 * Holding it, the breaker re-reads the record and goes on only if it is still the judged file (same identity)
 * in the very state that was judged stale (same token, same heartbeat). Just before it acts it checks again
 * that the guard is still its own (a breaker stalled for a lease has its guard broken by age and must then
 * do nothing) and that the lock path still names the judged file; then it renames the record away (see {@link
 * RenameAway}) and checks the renamed file is that file with that token before deleting it; anything else is
 * put back at once with {@code link(2)}, which never overwrites a newcomer. A second breaker that queued
 * behind the guard finds the record gone or replaced and breaks nothing. A breaker that dies while holding the
 * guard leaves it behind; the guard is broken in turn only by age: after it has stayed unchanged for a whole
 * lease on the next breaker's own clock.
 *
 * <p>What is not closed (pure Java has no {@code renameat2(RENAME_EXCHANGE)}): a breaker frozen for a whole
 * lease exactly between its last check and its rename (two consecutive system calls), while another breaker
 * breaks its guard and a fresh holder takes the lock, moves that fresh record away; it then puts it back at
 * once, and if a third process published in the microseconds between, the fresh holder is told through its
 * loss listeners and on release (the breaker logs it as an error).
 */
final class LockBreaker {

    private static final Logger LOG = LoggerFactory.getLogger(LockBreaker.class);

    /** A test's view of the moments between judging a record stale and breaking it. */
    interface Hook {
        Hook NONE = lockPath -> {};

        /** Before the guard is taken. */
        void beforeBreak(Path lockPath) throws IOException;

        /** With the guard held and the record re-checked, before the last checks and the rename. */
        default void beforeRename(Path lockPath) throws IOException {}
    }

    private record Guard(String token, Object fileKey) {}

    private final StaleHolderJudge judge;
    private final Hook hook;
    private final Linking linking;

    LockBreaker(StaleHolderJudge judge, Hook hook, Linking linking) {
        this.judge = judge;
        this.hook = hook;
        this.linking = linking;
    }

    /** Where the breaker guard of {@code lockPath} lives. */
    static Path guardFor(Path lockPath) {
        return lockPath.resolveSibling(guardName(lockPath.getFileName().toString()));
    }

    /** The name of the breaker guard of the lock named {@code lockName}. */
    static String guardName(String lockName) {
        return lockName + ".break";
    }

    /**
     * Breaks the lock at {@code lockPath} if it still shows {@code judged}.
     *
     * @return whether the judged record is gone from the path now (broken here, or removed by someone else)
     */
    boolean breakIfUnchanged(LockDirectory directory, Path lockPath, RecordSnapshot judged, String proof)
            throws IOException {
        hook.beforeBreak(lockPath);
        String name = lockPath.getFileName().toString();
        String guardName = guardName(name);
        Optional<Guard> guard = takeGuard(directory, guardName);
        if (guard.isEmpty()) {
            return false;
        }
        try {
            Optional<RecordSnapshot> now = RecordSnapshot.readRecord(directory, name);
            if (now.isEmpty()) {
                return true;
            }
            if (!now.get().sameState(judged)) {
                return false;
            }
            hook.beforeRename(lockPath);
            if (!Objects.equals(directory.keyInDirectory(guardName), guard.get().fileKey())) {
                LOG.warn(
                        "did not break stale lock {}: this breaker's guard {} was taken away while it was stalled"
                                + " (for more than a lease); another breaker acted instead",
                        lockPath,
                        directory.resolve(guardName));
                return false;
            }
            Object current = directory.keyInDirectory(name);
            if (current == null) {
                return true;
            }
            if (!Objects.equals(current, judged.fileKey())) {
                return false;
            }
            RenameAway.Outcome outcome = RenameAway.remove(
                    directory, name, "break", renamed -> isJudged(directory, renamed, judged), linking);
            switch (outcome.kind()) {
                case REMOVED -> {
                    LOG.warn("broke stale lock {} held by {}: {}", lockPath, judged.describe(), proof);
                    StaleLockBrokenEvent.commit(lockPath, judged.describe(), proof);
                    judge.forget(lockPath);
                    return true;
                }
                case ABSENT -> {
                    return true;
                }
                case FOREIGN_RESTORED, FOREIGN_UNTOUCHED -> {
                    return false;
                }
                case FOREIGN_LOST -> {
                    LOG.error(
                            "while breaking stale lock {} a fresh record ({}) was found in its place and could not be"
                                    + " put back because yet another process took the path; its holder is told"
                                    + " through its loss listeners",
                            lockPath,
                            outcome.found().describe());
                    return false;
                }
                default -> throw new IllegalStateException("unknown outcome " + outcome);
            }
        } finally {
            releaseGuard(directory, guardName, guard.get());
        }
    }

    /** Whether the renamed file is the very file judged, still carrying the judged token. */
    private static boolean isJudged(LockDirectory directory, String renamed, RecordSnapshot judged) throws IOException {
        if (!Objects.equals(directory.keyInDirectory(renamed), judged.fileKey())) {
            return false;
        }
        return RecordSnapshot.readRecord(directory, renamed)
                .map(judged::sameHolder)
                .orElse(false);
    }

    /** Takes the guard, or judges (and perhaps breaks by age) the one that is there and returns empty. */
    private Optional<Guard> takeGuard(LockDirectory directory, String guardName) throws IOException {
        String token = OwnerRecord.newToken();
        byte[] content = (new String(RecordSnapshot.GUARD_HEADER, StandardCharsets.US_ASCII) + "\ntoken=" + token
                        + "\npid=" + OwnerRecord.currentPid() + "\nhost=" + OwnerRecord.currentHost() + "\n")
                .getBytes(StandardCharsets.UTF_8);
        FileChannel channel;
        try {
            channel = directory.create(guardName);
        } catch (FileAlreadyExistsException e) {
            breakGuardIfAged(directory, guardName);
            return Optional.empty();
        }
        Object key = null;
        try (channel) {
            key = directory.keyInDirectory(guardName);
            RecordPublisher.writeFully(channel, content, 0);
        } catch (IOException e) {
            RenameAway.removeOwn(directory, guardName, "undo", key, linking);
            throw e;
        }
        judge.forget(directory.resolve(guardName));
        return Optional.of(new Guard(token, key));
    }

    /** Removes a guard that has stayed unchanged for a whole lease: its breaker stopped. */
    void breakGuardIfAged(LockDirectory directory, String guardName) throws IOException {
        Optional<RecordSnapshot> seen = RecordSnapshot.readGuard(directory, guardName);
        Path guardPath = directory.resolve(guardName);
        if (seen.isEmpty() || judge.leaseProof(guardPath, seen.get()).isEmpty()) {
            return;
        }
        RenameAway.Outcome outcome = RenameAway.remove(
                directory,
                guardName,
                "break",
                renamed -> RecordSnapshot.readGuard(directory, renamed)
                        .map(seen.get()::sameState)
                        .orElse(false),
                linking);
        if (outcome.kind() == RenameAway.Outcome.Kind.REMOVED) {
            LOG.warn("removed breaker guard {} left for a whole lease by a breaker that stopped", guardPath);
            judge.forget(guardPath);
        }
    }

    private void releaseGuard(LockDirectory directory, String guardName, Guard guard) throws IOException {
        RenameAway.Outcome outcome = RenameAway.removeOwn(directory, guardName, "release", guard.fileKey(), linking);
        if (outcome.kind() != RenameAway.Outcome.Kind.REMOVED) {
            LOG.warn(
                    "breaker guard {} was taken away while this process held it (it took longer than a lease)",
                    directory.resolve(guardName));
        }
    }
}
