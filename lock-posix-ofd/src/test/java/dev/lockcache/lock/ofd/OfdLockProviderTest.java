package dev.lockcache.lock.ofd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockRequest;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What OFD locks add over the kit: per-descriptor exclusion inside one process, surviving the close of another
 * descriptor, the inode check, errno mapping, bounded descriptors, and waits that end on timeout or interrupt
 * without leaving a lock behind. A second provider instance plays "another open file description"; it is
 * called through the SPI directly because the in-JVM table would otherwise settle the conflict first.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class OfdLockProviderTest {

    @TempDir
    Path dir;

    private OfdLockProvider ours;
    private OfdLockProvider other;
    private Path lock;

    @BeforeEach
    void setUp() {
        ours = new OfdLockProvider();
        other = new OfdLockProvider();
        assumeTrue(
                ours.availability().available(),
                () -> "OFD locks unavailable: " + ours.availability().reason());
        lock = dir.resolve("the.lock");
    }

    private static LockRequest request(Path path, LockMode mode) {
        return new LockRequest(path, mode, "test");
    }

    @Test
    void twoDescriptorsInOneProcessExcludeEachOther() throws IOException {
        HeldLock held = ours.tryLock(request(lock, LockMode.EXCLUSIVE)).orElseThrow();
        assertThat(other.tryLock(request(lock, LockMode.EXCLUSIVE))).isEmpty();
        assertThat(other.tryLock(request(lock, LockMode.SHARED))).isEmpty();
        ours.release(held);
        HeldLock now = other.tryLock(request(lock, LockMode.EXCLUSIVE)).orElseThrow();
        other.release(now);
    }

    @Test
    void sharedLocksCoexistAndKeepExclusiveOut() throws IOException {
        HeldLock first = ours.tryLock(request(lock, LockMode.SHARED)).orElseThrow();
        HeldLock second = other.tryLock(request(lock, LockMode.SHARED)).orElseThrow();
        assertThat(new OfdLockProvider().tryLock(request(lock, LockMode.EXCLUSIVE)))
                .isEmpty();
        ours.release(first);
        other.release(second);
    }

    @Test
    void closingAnotherDescriptorOfTheFileKeepsTheLock() throws IOException {
        HeldLock held = ours.tryLock(request(lock, LockMode.EXCLUSIVE)).orElseThrow();
        // with classic fcntl locks this close would silently drop the process's lock
        try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.READ)) {
            assertThat(channel.size()).isPositive();
        }
        assertThat(other.tryLock(request(lock, LockMode.EXCLUSIVE))).isEmpty();
        ours.release(held);
    }

    @Test
    void exclusiveHoldersWriteTheirRecordAndTheFencingTokenGrows() throws IOException {
        HeldLock first = ours.tryLock(request(lock, LockMode.EXCLUSIVE)).orElseThrow();
        LockOwner owner = ours.readOwner(lock);
        assertThat(owner).isInstanceOf(LockOwner.Known.class);
        assertThat(((LockOwner.Known) owner).record().generation()).isEqualTo(first.fencingToken());
        assertThat(((LockOwner.Known) owner).record().isThisProcess()).isTrue();
        ours.release(first);
        HeldLock second = other.tryLock(request(lock, LockMode.EXCLUSIVE)).orElseThrow();
        assertThat(second.fencingToken()).isEqualTo(first.fencingToken() + 1);
        other.release(second);
        HeldLock shared = ours.tryLock(request(lock, LockMode.SHARED)).orElseThrow();
        assertThat(shared.fencingToken())
                .as("a shared holder sees the last exclusive generation")
                .isEqualTo(second.fencingToken());
        ours.release(shared);
    }

    @Test
    void aLockOnARemovedFileDoesNotMakeThePathLookBusy() throws IOException {
        HeldLock ghost = other.tryLock(request(lock, LockMode.EXCLUSIVE)).orElseThrow();
        HeldLock mine = ours.tryLock(request(dir.resolve("warm.lock"), LockMode.EXCLUSIVE))
                .orElseThrow();
        ours.release(mine);
        assertThat(ours.tryLock(request(lock, LockMode.EXCLUSIVE))).isEmpty(); // keeps a descriptor of lock
        Files.delete(lock); // 'other' still holds the unlinked file
        HeldLock fresh = ours.tryLock(request(lock, LockMode.EXCLUSIVE)).orElseThrow();
        assertThat(fresh.fencingToken()).as("a new file: a new record").isEqualTo(1);
        ours.release(fresh);
        other.release(ghost);
    }

    @Test
    void errnoIsMappedToContendedUnsupportedOrAFailureNamingThePath() {
        assertThat(OfdSyscalls.isContended(OfdSyscalls.EAGAIN)).isTrue();
        assertThat(OfdSyscalls.isContended(OfdSyscalls.EACCES)).isTrue();
        assertThat(OfdSyscalls.isContended(OfdSyscalls.ENOLCK)).isFalse();
        for (int errno : new int[] {OfdSyscalls.ENOLCK, OfdSyscalls.EINVAL, OfdSyscalls.EOPNOTSUPP}) {
            assertThat(OfdSyscalls.isUnsupported(errno)).isTrue();
            assertThat(OfdSyscalls.hint(errno)).contains("does not support OFD locks");
        }
        assertThat(OfdSyscalls.isUnsupported(OfdSyscalls.EAGAIN)).isFalse();

        Path blocker = dir.resolve("missing-directory");
        assertThatThrownBy(() -> ours.tryLock(request(blocker.resolve("x.lock"), LockMode.EXCLUSIVE)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(blocker.toString())
                .hasMessageContaining("open directory")
                .hasMessageContaining("No such file");
    }

    @Test
    void aDirectoryWithoutWritePermissionFailsWithThePathAndAHint() throws IOException {
        assumeTrue(!"root".equals(System.getProperty("user.name")), "root may write anywhere; needs a normal user");
        Path readOnly = Files.createDirectory(dir.resolve("ro"));
        assertThat(readOnly.toFile().setWritable(false)).isTrue();
        assertThatThrownBy(() -> FileLocks.using(ours).acquire(readOnly.resolve("x.lock"), Duration.ZERO))
                .isInstanceOf(LockIOException.class)
                .hasMessageContaining("x.lock")
                .hasMessageContaining("writable");
    }

    @Test
    void tenThousandLockFilesNeverOpenMoreThanTheCacheBound() throws Exception {
        OfdLockProvider bounded;
        System.setProperty(dev.lockcache.lock.spi.KernelLockProvider.IDLE_LIMIT_PROPERTY, "16");
        try {
            bounded = new OfdLockProvider();
        } finally {
            System.clearProperty(dev.lockcache.lock.spi.KernelLockProvider.IDLE_LIMIT_PROPERTY);
        }
        FileLocks locks = FileLocks.using(bounded);
        long before = openDescriptors();
        long most = before;
        for (int i = 0; i < 10_000; i++) {
            // shared: the same descriptor path as exclusive, without the owner record's cost on 10,000 files
            try (LockHandle ignored = locks.acquire(
                    dir.resolve("many").resolve(i + ".lock"),
                    LockOptions.shared().tryOnce())) {
                if (i % 500 == 0) {
                    most = Math.max(most, openDescriptors());
                }
            }
        }
        long after = openDescriptors();
        assertThat(bounded.openLockFiles()).isEqualTo(16);
        assertThat(Math.max(most, after))
                .as("descriptors before %d, most seen %d, after %d", before, most, after)
                .isLessThanOrEqualTo(before + 16 + 1 + 2 + 4); // the cache, the one in use, two directories, JVM noise
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** Waits for a condition another thread makes true (a liveness bound, not a timing). */
    static void awaitCondition(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting for " + what);
            }
            Thread.onSpinWait();
        }
    }
}
