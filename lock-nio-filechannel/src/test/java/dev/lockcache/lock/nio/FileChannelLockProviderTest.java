package dev.lockcache.lock.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
            awaitBlockedInKernelLock(path, waiter);
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
    void aSecondNameOfAHeldLockFileIsRefusedNotLockedBeside() throws Exception {
        FileLocks locks = FileLocks.using(new FileChannelLockProvider());
        Path path = dir.resolve("linked.lock");
        try (LockHandle held = locks.acquire(path, Duration.ZERO)) {
            Path link = Files.createLink(dir.resolve("link.lock"), path);
            assertThatThrownBy(() -> locks.tryAcquire(link, LockMode.EXCLUSIVE))
                    .isInstanceOf(dev.lockcache.lock.UnsafePathException.class)
                    .hasMessageContaining("hard links");
            Files.delete(link);
            assertThat(childTry(path)).as("our lock is still held").isEqualTo("BUSY");
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

    static void awaitBlockedInKernelLock(Path path, AtomicReference<Thread> thread) {
        long deadline = System.nanoTime() + ChildJvm.HANDSHAKE.toNanos();
        while (System.nanoTime() < deadline) {
            if (thread.get() != null && FileLocks.waitingForAnotherProcess(path)) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("the waiter never began waiting for " + path);
    }
}
