package dev.lockcache.lock.exclusive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.spi.ProbeResult;
import dev.lockcache.lock.testkit.Immutable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Exclusion and recovery between processes: here the provider, not the in-JVM table, is what excludes. */
@Timeout(120)
class ExclusiveCreateMultiProcessTest {

    @TempDir
    Path dir;

    private final ExclusiveCreateLockProvider provider =
            new ExclusiveCreateLockProvider().withLease(Duration.ofSeconds(60));
    private final FileLocks locks = FileLocks.using(provider);

    @Test
    void anotherProcessHoldingMakesOurAcquireTimeOutUntilItReleases() throws Exception {
        Path lock = dir.resolve("child.lock");
        try (ChildProcess child = ChildProcess.start("hold", lock)) {
            long childToken = Long.parseLong(child.readLine().replace("HELD ", ""));
            long start = System.nanoTime();
            assertThatThrownBy(() -> locks.acquire(lock, Duration.ofMillis(500)))
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessageContaining("pid " + child.pid());
            assertThat(System.nanoTime() - start)
                    .isGreaterThanOrEqualTo(Duration.ofMillis(500).toNanos());
            assertThat(locks.tryAcquire(lock, dev.lockcache.lock.LockMode.EXCLUSIVE))
                    .isEmpty();

            child.send("release");
            assertThat(child.readLine()).isEqualTo("RELEASED");
            try (LockHandle handle = locks.acquire(lock, Duration.ofSeconds(30))) {
                assertThat(handle.fencingToken()).isGreaterThan(childToken);
            }
        }
    }

    @Test
    void anotherProcessCannotTakeTheLockWeHold() throws Exception {
        Path lock = dir.resolve("ours.lock");
        try (LockHandle ignored = locks.acquire(lock, Duration.ofSeconds(5))) {
            try (ChildProcess child = ChildProcess.start("try", lock)) {
                assertThat(child.readLine()).isEqualTo("BUSY");
            }
        }
        try (ChildProcess child = ChildProcess.start("try", lock)) {
            assertThat(child.readLine()).startsWith("ACQUIRED ");
        }
    }

    @Test
    void aWaiterIsHandedTheLockWhenAnotherProcessReleases() throws Exception {
        Path lock = dir.resolve("handoff.lock");
        try (ChildProcess child = ChildProcess.start("hold", lock)) {
            child.readLine();
            CompletableFuture<Long> waiter = CompletableFuture.supplyAsync(() -> {
                try (LockHandle handle =
                        locks.acquire(lock, LockOptions.exclusive().waitForever())) {
                    return handle.fencingToken();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            });
            child.send("release");
            assertThat(child.readLine()).isEqualTo("RELEASED");
            assertThat(waiter.get(60, TimeUnit.SECONDS)).isPositive();
        }
    }

    @Test
    void aKilledHoldersRecordIsBrokenByTheDeadPidProofWithoutWaitingForTheLease() throws Exception {
        Path lock = dir.resolve("killed.lock");
        long childToken;
        long childPid;
        try (ChildProcess child = ChildProcess.start("hold", lock)) {
            childToken = Long.parseLong(child.readLine().replace("HELD ", ""));
            childPid = child.pid();
            child.kill();
        }
        LockOwner left = provider.readOwner(lock);
        assertThat(left).isInstanceOf(LockOwner.Known.class);
        assertThat(((LockOwner.Known) left).record().pid()).isEqualTo(childPid);

        long start = System.nanoTime();
        try (LockHandle handle = locks.acquire(lock, Duration.ofSeconds(30))) {
            assertThat(handle.fencingToken()).isGreaterThan(childToken);
        }
        assertThat(System.nanoTime() - start).isLessThan(provider.lease().toNanos());
    }

    @Test
    void aReadOnlyDirectoryFailsWithTheOperationAndPathAndLeavesNothing() throws Exception {
        Path readOnly = Files.createDirectory(dir.resolve("ro"));
        assumeTrue(Immutable.set(readOnly), "needs chattr +i (root on ext4) or a non-root user");
        try {
            Path lock = readOnly.resolve("ro.lock");
            assertThatThrownBy(() -> locks.acquire(lock, Duration.ZERO))
                    .isInstanceOf(LockIOException.class)
                    .hasMessageContaining(lock.toString())
                    .hasMessageContaining("create temporary owner record");
            assertThat(listing(readOnly)).isEmpty();
            ProbeResult probe = provider.probe(readOnly);
            assertThat(probe.verdict()).isEqualTo(ProbeResult.Verdict.UNAVAILABLE);
            assertThat(probe.reason()).contains(readOnly.toString());
            assertThat(listing(readOnly)).isEmpty();
        } finally {
            Immutable.clear(readOnly);
        }
    }

    @Test
    void aFailedRecordWriteFailsWithTheOperationAndPathAndLeavesNoTemporaryFile() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "needs bash for ulimit");
        Path lock = dir.resolve("full.lock");
        // A file size limit of 0 makes the record write fail (EFBIG) after the temporary file was created,
        // as ENOSPC would on a full disk.
        try (ChildProcess child = ChildProcess.startInShell("ulimit -f 0", "fail", lock)) {
            String line = child.readLine();
            assertThat(line).startsWith("IOFAILED write owner record").contains(lock.toString());
            assertThat(child.awaitExit()).isZero();
        }
        assertThat(listing(dir)).isEmpty();
    }

    private static List<String> listing(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }
}
