package dev.lockcache.lock.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.spi.FcntlChannels;
import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileChannelLockProviderTest {

    @TempDir
    Path dir;

    private static String childTry(Path path) throws Exception {
        try (ChildJvm child = ChildJvm.lockChild("nio", "try", path.toString(), "EXCLUSIVE")) {
            String line = child.expect("");
            child.awaitExit();
            return line.split(" ")[0];
        }
    }

    @Test
    void aLockFileReplacedBetweenOpenAndLockIsNoticedAndTheNewFileLocked() throws Exception {
        Path path = dir.resolve("replaced.lock");
        AtomicInteger attempts = new AtomicInteger();
        FileChannelLockProvider provider = new FileChannelLockProvider(FcntlChannels.jvm(), p -> {
            if (attempts.incrementAndGet() == 1) {
                try {
                    Path fresh = Files.writeString(dir.resolve("fresh"), "");
                    Files.move(fresh, p, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        Files.writeString(path, "");
        try (LockHandle handle = FileLocks.using(provider).acquire(path, Duration.ZERO)) {
            assertThat(attempts).hasValue(2);
            assertThat(handle.fencingToken()).isEqualTo(1);
            // never Files.readString here: closing a second descriptor would drop the fcntl lock
            assertThat(FileLocks.using(provider).owner(path).describe())
                    .contains("pid " + ProcessHandle.current().pid())
                    .contains("nio");
            assertThat(childTry(path)).as("the file the path names now").isEqualTo("BUSY");
        }
        assertThat(childTry(path)).isEqualTo("ACQUIRED");
    }

    @Test
    void timedOutAndInterruptedWaitersNeverReleaseAnotherProcessesLock() throws Exception {
        FileLocks locks = FileLocks.using(new FileChannelLockProvider());
        Path path = dir.resolve("waiters.lock");
        try (ChildJvm holder = ChildJvm.lockChild("nio", "hold", path.toString(), "EXCLUSIVE")) {
            holder.expect("HELD");
            long start = System.nanoTime();
            assertThatThrownBy(() -> locks.acquire(path, Duration.ofMillis(300)))
                    .isInstanceOf(LockTimeoutException.class);
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
            assertThat(childTry(path)).as("a third party after our timeout").isEqualTo("BUSY");

            AtomicReference<Thread> waiter = new AtomicReference<>();
            CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
                waiter.set(Thread.currentThread());
                try (LockHandle ignored =
                        locks.acquire(path, LockOptions.exclusive().waitForever())) {
                    return new AssertionError("acquired a lock another process holds");
                } catch (Throwable e) {
                    return e;
                }
            });
            awaitBlockedInKernelLock(waiter);
            waiter.get().interrupt();
            assertThat(outcome.get(30, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            assertThat(childTry(path)).as("a third party after our interrupt").isEqualTo("BUSY");
            assertThat(FileLocks.pathsInUse()).isZero();
            holder.send("release");
            holder.expect("RELEASED");
        }
        assertThat(childTry(path)).isEqualTo("ACQUIRED");
    }

    @Test
    void anInterruptedSiblingThreadLeavesTheHoldersLockInPlace() throws Exception {
        FileLocks locks = FileLocks.using(new FileChannelLockProvider());
        Path path = dir.resolve("sibling.lock");
        try (LockHandle held = locks.acquire(path, Duration.ZERO)) {
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread sibling = new Thread(() -> {
                started.countDown();
                try (LockHandle ignored =
                        locks.acquire(path, LockOptions.exclusive().waitForever())) {
                    outcome.set(new AssertionError("acquired while a sibling holds"));
                } catch (Throwable e) {
                    outcome.set(e);
                }
            });
            sibling.start();
            assertThat(started.await(1, TimeUnit.MINUTES)).isTrue();
            sibling.interrupt();
            sibling.join(TimeUnit.MINUTES.toMillis(1));
            assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
            // readers and an interrupted reader thread do not close the registered file either
            Thread reader = new Thread(() -> {
                Thread.currentThread().interrupt();
                locks.owner(path);
            });
            reader.start();
            reader.join();
            assertThat(childTry(path)).isEqualTo("BUSY");
            assertThat(held.isOpen()).isTrue();
        }
    }

    @Test
    void overlappingLocksInThisJvmThroughAHardLinkAreReportedBusyNotThrown() throws Exception {
        FileLocks locks = FileLocks.using(new FileChannelLockProvider());
        Path path = dir.resolve("linked.lock");
        try (LockHandle held = locks.acquire(path, Duration.ZERO)) {
            Path link = Files.createLink(dir.resolve("link.lock"), path);
            Optional<LockHandle> second = locks.tryAcquire(link, LockMode.EXCLUSIVE);
            assertThat(second).isEmpty();
        }
    }

    @Test
    void probeVerdictsAreCachedPerFileStore() {
        FileChannelLockProvider provider = new FileChannelLockProvider();
        assertThat(provider.probe(dir).usable()).isTrue();
        Path other = dir.resolve("sub");
        assertThat(other.toFile().mkdirs()).isTrue();
        assertThat(provider.probe(other).reason()).contains("cached");
    }

    static void awaitBlockedInKernelLock(AtomicReference<Thread> thread) {
        long deadline = System.nanoTime() + ChildJvm.HANDSHAKE.toNanos();
        while (System.nanoTime() < deadline) {
            Thread t = thread.get();
            if (t != null
                    && Arrays.stream(t.getStackTrace())
                            .anyMatch(f -> f.getMethodName().equals("lock0"))) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("the waiter never blocked in FileChannel.lock");
    }
}
