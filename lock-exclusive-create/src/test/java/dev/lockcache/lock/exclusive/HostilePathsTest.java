package dev.lockcache.lock.exclusive;

import static dev.lockcache.lock.exclusive.ExclusiveCreateLockProviderTest.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockException;
import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.UnsafePathException;
import dev.lockcache.lock.spi.DirectoryTrust;
import dev.lockcache.lock.spi.HeldLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files another account could place in a lock directory: symlinks (pre-placed and swapped in between a check
 * and the call that acts), FIFOs, foreign files. Each must be refused with an {@link UnsafePathException} or be
 * harmless, and what a link points to is never written, truncated or deleted. A FIFO must never hang anybody:
 * every test has a timeout far beyond what a refusal takes.
 */
@Timeout(60)
class HostilePathsTest {

    private static final Duration LEASE = Duration.ofSeconds(10);
    private static final String PRECIOUS = "precious bytes of somebody else\n";

    @TempDir
    Path root;

    private Path dir;
    private Path victim;
    private final FakeTicker ticker = new FakeTicker();
    private final ExclusiveCreateLockProvider provider =
            new ExclusiveCreateLockProvider().withLease(LEASE).withTicker(ticker);

    @BeforeEach
    void layout() throws IOException {
        dir = Files.createDirectory(root.resolve("locks"));
        Path elsewhere = Files.createDirectory(root.resolve("elsewhere"));
        victim = Files.writeString(elsewhere.resolve("victim"), PRECIOUS);
    }

    @Test
    void aSymlinkAtTheLockPathIsRefusedAndItsTargetIsNeverTouched() throws Exception {
        Path lock = dir.resolve("x.lock");
        Files.createSymbolicLink(lock, victim);
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> provider.tryLock(request(lock)))
                    .isInstanceOf(UnsafePathException.class)
                    .hasMessageContaining(lock.toString())
                    .hasMessageContaining("symbolic link");
            ticker.advance(LEASE.multipliedBy(2)); // no lease ever makes it a stale lock
        }
        assertThat(provider.readOwner(lock)).isInstanceOf(LockOwner.Unreadable.class);
        assertVictimIntact();
        assertThat(Files.isSymbolicLink(lock)).isTrue();
        assertThat(names(victim.getParent())).containsExactly("victim");
    }

    @Test
    void aDanglingSymlinkAtTheLockPathNeverCreatesItsTarget() throws Exception {
        Path lock = dir.resolve("d.lock");
        Path target = victim.resolveSibling("created-by-lockcache");
        Files.createSymbolicLink(lock, target);
        assertThatThrownBy(() -> provider.tryLock(request(lock))).isInstanceOf(UnsafePathException.class);
        assertThatThrownBy(() -> FileLocks.using(provider).acquire(lock, Duration.ZERO))
                .isInstanceOf(LockException.class);
        assertThat(Files.exists(target, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(names(victim.getParent())).containsExactly("victim");
    }

    @Test
    void throughFileLocksASymlinkedLockPathNeverWritesTheTarget() throws Exception {
        Path lock = dir.resolve("f.lock");
        Files.createSymbolicLink(lock, victim);
        // FileLocks resolves the real path (the victim); the provider then finds a file that is not a record.
        assertThatThrownBy(() -> FileLocks.using(provider).acquire(lock, Duration.ofMillis(100)))
                .isInstanceOf(UnsafePathException.class);
        assertVictimIntact();
        assertThat(names(victim.getParent())).containsExactly("victim");
    }

    @Test
    void aSymlinkAtTheGenerationFileIsRefusedAndNothingIsHeldAfter() throws Exception {
        Path lock = dir.resolve("g.lock");
        Files.createSymbolicLink(GenerationFile.pathFor(lock), victim);
        assertThatThrownBy(() -> provider.tryLock(request(lock)))
                .isInstanceOf(UnsafePathException.class)
                .hasMessageContaining(GenerationFile.pathFor(lock).toString())
                .hasMessageContaining("symbolic link");
        assertVictimIntact();
        assertThat(names(dir)).containsExactly("g.lock.gen"); // the record was taken back, no temporary file
    }

    @Test
    void aSymlinkAtTheBreakerGuardIsRefusedAndItsTargetIsNeitherWrittenNorDeleted() throws Exception {
        Path lock = dir.resolve("b.lock");
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "dead0"));
        Files.createSymbolicLink(LockBreaker.guardFor(lock), victim);
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> provider.tryLock(request(lock)))
                    .isInstanceOf(UnsafePathException.class)
                    .hasMessageContaining(LockBreaker.guardFor(lock).toString());
            ticker.advance(LEASE.multipliedBy(2));
        }
        assertVictimIntact();
        assertThat(token(lock)).isEqualTo("dead0");
    }

    @Test
    void aSymlinkSwappedInAtTheGenerationFileBetweenCheckAndOpenIsNotFollowed() throws Exception {
        Path lock = dir.resolve("s.lock");
        provider.release(provider.tryLock(request(lock)).orElseThrow()); // the generation file exists now
        ExclusiveCreateLockProvider racing = provider.withSeams(provider.seams().withDirectoryPause((step, name) -> {
            if (step.equals("open") && name.equals("s.lock.gen")) {
                Files.delete(GenerationFile.pathFor(lock));
                Files.createSymbolicLink(GenerationFile.pathFor(lock), victim);
            }
        }));
        assertThatThrownBy(() -> racing.tryLock(request(lock)))
                .isInstanceOf(UnsafePathException.class)
                .hasMessageContaining("symbolic link");
        assertVictimIntact();
        assertThat(Files.exists(lock, LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    @Test
    void aSymlinkSwappedInAtTheTemporaryRecordBeforeItIsCreatedIsNotFollowed() throws Exception {
        Path lock = dir.resolve("t.lock");
        ExclusiveCreateLockProvider racing = provider.withSeams(provider.seams().withDirectoryPause((step, name) -> {
            if (step.equals("create") && name.endsWith(".tmp")) {
                Files.createSymbolicLink(dir.resolve(name), victim);
            }
        }));
        assertThatThrownBy(() -> racing.tryLock(request(lock)))
                .isInstanceOf(LockIOException.class)
                .hasMessageContaining("create temporary owner record");
        assertVictimIntact();
    }

    @Test
    void aSymlinkSwappedInAtTheLockPathBeforeTheLinkIsRefused() throws Exception {
        Path lock = dir.resolve("l.lock");
        ExclusiveCreateLockProvider racing = provider.withSeams(provider.seams().withDirectoryPause((step, name) -> {
            if (step.equals("link") && name.equals("l.lock")) {
                Files.createSymbolicLink(lock, victim);
            }
        }));
        // link(2) refuses the taken name; the attempt then looks at what took it
        assertThatThrownBy(() -> racing.tryLock(request(lock)))
                .isInstanceOf(UnsafePathException.class)
                .hasMessageContaining("symbolic link");
        assertThatThrownBy(() -> provider.tryLock(request(lock))).isInstanceOf(UnsafePathException.class);
        assertVictimIntact();
        assertThat(names(dir)).containsExactly("l.lock"); // no temporary record left
    }

    @Test
    void aFifoAtTheLockPathHangsNobody() throws Exception {
        Path lock = dir.resolve("fifo.lock");
        mkfifo(lock);
        assertThatThrownBy(() -> provider.tryLock(request(lock)))
                .isInstanceOf(UnsafePathException.class)
                .hasMessageContaining("FIFO");
        assertThat(provider.readOwner(lock)).isInstanceOf(LockOwner.Unreadable.class);
        assertThat(provider.readOwner(lock).describe()).contains("FIFO");
        assertThatThrownBy(() -> FileLocks.using(provider).acquire(lock, Duration.ofMillis(200)))
                .isInstanceOf(LockException.class);
    }

    @Test
    void aFifoAtTheGenerationFileOrTheGuardHangsNobody() throws Exception {
        Path lock = dir.resolve("side.lock");
        mkfifo(GenerationFile.pathFor(lock));
        assertThatThrownBy(() -> provider.tryLock(request(lock)))
                .isInstanceOf(UnsafePathException.class)
                .hasMessageContaining("FIFO");
        Path broken = dir.resolve("guarded.lock");
        HandMadeRecords.write(broken, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "dead1"));
        mkfifo(LockBreaker.guardFor(broken));
        assertThatThrownBy(() -> provider.tryLock(request(broken)))
                .isInstanceOf(UnsafePathException.class)
                .hasMessageContaining("FIFO");
        assertThat(token(broken)).isEqualTo("dead1");
    }

    @Test
    void aFifoSwappedInBetweenTheCheckAndTheOpenOfARecordHangsNobody() throws Exception {
        Path lock = dir.resolve("swap.lock");
        HandMadeRecords.write(lock, HandMadeRecords.onAnotherHost("far0"));
        ExclusiveCreateLockProvider racing = provider.withSeams(provider.seams().withDirectoryPause((step, name) -> {
            if (step.equals("open") && name.equals("swap.lock") && Files.isRegularFile(lock)) {
                Files.delete(lock);
                mkfifo(lock);
            }
        }));
        assertThatThrownBy(() -> racing.tryLock(request(lock)))
                .isInstanceOf(UnsafePathException.class)
                .hasMessageContaining("FIFO");
    }

    @Test
    void anExistingFileThatIsNotARecordIsRefusedNeverBrokenNeverDeleted() throws Exception {
        Path script = Files.writeString(dir.resolve("job.sh"), "#!/bin/sh\nexec flock \"$0\" true\n");
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> provider.tryLock(request(script)))
                    .isInstanceOf(UnsafePathException.class)
                    .hasMessageContaining(script.toString())
                    .hasMessageContaining("not one of lockcache's own files")
                    .hasMessageContaining("flock");
            ticker.advance(LEASE.multipliedBy(3));
        }
        assertThat(Files.readString(script)).isEqualTo("#!/bin/sh\nexec flock \"$0\" true\n");
        assertThat(names(dir)).containsExactly("job.sh");
    }

    @Test
    void recordsGenerationFilesAndGuardsAreCreatedWithTheFileModeNotTheUmasks() throws Exception {
        assumeTrue(DirectoryTrust.posix(), "needs POSIX permissions");
        Path lock = dir.resolve("mode.lock");
        HeldLock held = provider.tryLock(request(lock)).orElseThrow();
        try {
            assertThat(mode(lock)).isEqualTo("rw-------");
            assertThat(mode(GenerationFile.pathFor(lock))).isEqualTo("rw-------");
        } finally {
            provider.release(held);
        }
        // a guard, seen while a breaker holds it
        Path stale = dir.resolve("stale.lock");
        HandMadeRecords.write(stale, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "dead2"));
        String[] guardMode = new String[1];
        ExclusiveCreateLockProvider looking =
                provider.withSeams(provider.seams().withBreakHook(new LockBreaker.Hook() {
                    @Override
                    public void beforeBreak(Path lockPath) {}

                    @Override
                    public void beforeRename(Path lockPath) throws IOException {
                        guardMode[0] = mode(LockBreaker.guardFor(lockPath));
                    }
                }));
        looking.release(looking.tryLock(request(stale)).orElseThrow());
        assertThat(guardMode[0]).isEqualTo("rw-------");
    }

    @Test
    void aRecordOthersCouldHaveWrittenIsNeverBelievedSoNeverBroken() throws Exception {
        assumeTrue(DirectoryTrust.posix(), "needs POSIX permissions");
        Path lock = dir.resolve("forged.lock");
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "forged0"));
        Files.setPosixFilePermissions(lock, PosixFilePermissions.fromString("rw-rw-rw-"));
        for (int i = 0; i < 3; i++) {
            assertThat(provider.tryLock(request(lock))).isEmpty();
            ticker.advance(LEASE.multipliedBy(2));
        }
        assertThat(token(lock)).isEqualTo("forged0");
        // the same record, private again, is believed and broken at once (the test can fail)
        Files.setPosixFilePermissions(lock, PosixFilePermissions.fromString("rw-------"));
        provider.release(provider.tryLock(request(lock)).orElseThrow());
    }

    @Test
    void aRecordOwnedByAnotherUserIsRefusedNeverBelievedNeverBroken() throws Exception {
        assumeTrue(DirectoryTrust.effectiveUid() == 0, "needs root to chown a file to another user");
        Path lock = dir.resolve("foreign.lock");
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "other0"));
        Files.setAttribute(lock, "unix:uid", 54321, LinkOption.NOFOLLOW_LINKS);
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> provider.tryLock(request(lock)))
                    .isInstanceOf(UnsafePathException.class)
                    .hasMessageContaining("belongs to user id 54321");
            ticker.advance(LEASE.multipliedBy(2));
        }
        assertThat(Files.readString(lock)).contains("token=other0");
    }

    @Test
    void aLockDirectoryOthersMayWriteOrAnotherUserOwnsIsRefused() throws Exception {
        assumeTrue(DirectoryTrust.posix(), "needs POSIX permissions");
        Path open = Files.createDirectory(root.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> provider.tryLock(request(open.resolve("x.lock"))))
                .isInstanceOf(UnsafePathException.class)
                .hasMessageContaining("writable by every user")
                .hasMessageContaining("chmod");
        assertThat(names(open)).isEmpty();
        if (DirectoryTrust.effectiveUid() == 0) {
            Path theirs = Files.createDirectory(root.resolve("theirs"));
            Files.setAttribute(theirs, "unix:uid", 54321, LinkOption.NOFOLLOW_LINKS);
            assertThatThrownBy(() -> provider.tryLock(request(theirs.resolve("x.lock"))))
                    .isInstanceOf(UnsafePathException.class)
                    .hasMessageContaining("belongs to user id 54321");
            assertThat(names(theirs)).isEmpty();
        }
    }

    @Test
    void inAStickySharedDirectoryOnlyOurOwnLockFileIsUsed() throws Exception {
        assumeTrue(DirectoryTrust.effectiveUid() == 0, "needs root to chown a file to another user");
        Path shared = Files.createDirectory(root.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setAttribute(shared, "unix:mode", 01777, LinkOption.NOFOLLOW_LINKS);
        Path mine = shared.resolve("mine.lock");
        provider.release(provider.tryLock(request(mine)).orElseThrow());
        Path planted = shared.resolve("planted.lock");
        HandMadeRecords.write(planted, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "planted0"));
        Files.setAttribute(planted, "unix:uid", 54321, LinkOption.NOFOLLOW_LINKS);
        assertThatThrownBy(() -> provider.tryLock(request(planted)))
                .isInstanceOf(UnsafePathException.class)
                .hasMessageContaining("belongs to user id 54321")
                .hasMessageContaining("every user may write");
        assertThat(Files.exists(planted)).isTrue();
    }

    private void assertVictimIntact() throws IOException {
        assertThat(Files.readString(victim)).isEqualTo(PRECIOUS);
    }

    private static String mode(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
    }

    static void mkfifo(Path path) throws IOException {
        try {
            Process process = new ProcessBuilder("mkfifo", path.toString())
                    .redirectErrorStream(true)
                    .start();
            if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException("mkfifo " + path + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static String token(Path lock) {
        return ((LockOwner.Known) new ExclusiveCreateLockProvider().readOwner(lock))
                .record()
                .token();
    }

    private static List<String> names(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
