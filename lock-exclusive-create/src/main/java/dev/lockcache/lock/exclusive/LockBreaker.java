package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.OwnerRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Breaks a stale lock so that of many concurrent breakers exactly one wins, and never removes a lock that
 * became fresh after it was judged.
 *
 * <p>A breaker first takes a guard, {@code <lock>.break}, by exclusive create: breakers in all processes
 * therefore go one at a time. Holding it, the breaker re-reads the record and goes on only if it still shows
 * the very state that was judged stale (same token, same heartbeat); a holder that beat meanwhile, or a new
 * holder, stops it. It then renames the record away (see {@link RenameAway}) and checks the renamed file is
 * still the judged one before deleting it; anything else is put back. A second breaker that queued behind the
 * guard finds the record gone or replaced and breaks nothing. A breaker that dies while holding the guard
 * leaves it behind; the guard is broken in turn only by age: after it has stayed unchanged for a whole lease
 * on the next breaker's own clock.
 */
final class LockBreaker {

    private static final Logger LOG = LoggerFactory.getLogger(LockBreaker.class);

    /** A test's view of the moment between judging a record stale and breaking it. */
    @FunctionalInterface
    interface Hook {
        Hook NONE = lockPath -> {};

        void beforeBreak(Path lockPath) throws IOException;
    }

    private final StaleHolderJudge judge;
    private final Hook hook;

    LockBreaker(StaleHolderJudge judge, Hook hook) {
        this.judge = judge;
        this.hook = hook;
    }

    /** Where the breaker guard of {@code lockPath} lives. */
    static Path guardFor(Path lockPath) {
        return lockPath.resolveSibling(lockPath.getFileName() + ".break");
    }

    /**
     * Breaks the lock at {@code lockPath} if it still shows {@code judged}.
     *
     * @return whether the judged record is gone from the path now (broken here, or removed by someone else)
     */
    boolean breakIfUnchanged(Path lockPath, RecordSnapshot judged, String proof) throws IOException {
        hook.beforeBreak(lockPath);
        Path guard = guardFor(lockPath);
        Optional<String> guardToken = takeGuard(guard);
        if (guardToken.isEmpty()) {
            return false;
        }
        try {
            Optional<RecordSnapshot> now = RecordSnapshot.read(lockPath);
            if (now.isEmpty()) {
                return true;
            }
            if (!now.get().sameState(judged)) {
                return false;
            }
            RenameAway.Outcome outcome = RenameAway.remove(
                    lockPath,
                    "break",
                    renamed ->
                            RecordSnapshot.read(renamed).map(judged::sameState).orElse(false));
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
                case FOREIGN_RESTORED -> {
                    return false;
                }
                case FOREIGN_LOST -> {
                    LOG.error(
                            "while breaking stale lock {} a fresh record ({}) was found in its place and could not be"
                                    + " put back because yet another process took the path; its holder will see"
                                    + " LockLostException on release",
                            lockPath,
                            outcome.found().describe());
                    return false;
                }
                default -> throw new IllegalStateException("unknown outcome " + outcome);
            }
        } finally {
            releaseGuard(guard, guardToken.get());
        }
    }

    /** Takes the guard, or judges (and perhaps breaks by age) the one that is there and returns empty. */
    private Optional<String> takeGuard(Path guard) throws IOException {
        String token = OwnerRecord.newToken();
        byte[] content = ("lockcache-break-guard\ntoken=" + token + "\npid=" + OwnerRecord.currentPid() + "\nhost="
                        + OwnerRecord.currentHost() + "\n")
                .getBytes(StandardCharsets.UTF_8);
        FileChannel channel;
        try {
            channel = FileChannel.open(guard, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            breakGuardIfAged(guard);
            return Optional.empty();
        }
        try (channel) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            Files.deleteIfExists(guard);
            throw e;
        }
        judge.forget(guard);
        return Optional.of(token);
    }

    private void breakGuardIfAged(Path guard) throws IOException {
        Optional<RecordSnapshot> seen = RecordSnapshot.read(guard);
        if (seen.isEmpty() || judge.leaseProof(guard, seen.get()).isEmpty()) {
            return;
        }
        RenameAway.Outcome outcome = RenameAway.remove(
                guard,
                "break",
                renamed ->
                        RecordSnapshot.read(renamed).map(seen.get()::sameState).orElse(false));
        if (outcome.kind() == RenameAway.Outcome.Kind.REMOVED) {
            LOG.warn("removed breaker guard {} left for a whole lease by a breaker that stopped", guard);
            judge.forget(guard);
        }
    }

    private static void releaseGuard(Path guard, String token) throws IOException {
        RenameAway.Outcome outcome = RenameAway.remove(
                guard,
                "release",
                renamed -> new String(Files.readAllBytes(renamed), StandardCharsets.UTF_8)
                        .contains("token=" + token + "\n"));
        if (outcome.kind() != RenameAway.Outcome.Kind.REMOVED) {
            LOG.warn("breaker guard {} was taken away while this process held it (it took longer than a lease)", guard);
        }
    }
}
