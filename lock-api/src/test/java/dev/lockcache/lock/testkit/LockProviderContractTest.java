package dev.lockcache.lock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockException;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.LockUpgradeException;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.ProbeResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract every {@link LockProvider} keeps, run against a real provider. A provider's test is a subclass
 * that returns the provider; the provider must also be registered for {@link java.util.ServiceLoader} under
 * the same name, because the child JVMs find it by name.
 *
 * <p>Events are ordered by handshakes (latches, barriers, lines over a child's standard streams), never by
 * sleeping. The only timing assertion is that a timed wait does not end before its timeout, plus a generous
 * upper bound for liveness.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
public abstract class LockProviderContractTest {

    /** The provider under test, available on this platform. */
    protected abstract LockProvider provider();

    /** Increments per thread in the exclusion tests; a subclass for a slow mechanism may lower it. */
    protected int incrementsPerThread() {
        return 200;
    }

    @TempDir
    protected Path dir;

    protected FileLocks locks;
    private Path lock;

    @BeforeEach
    void setUpLocks() {
        LockProvider provider = provider();
        assumeTrue(
                provider.availability().available(),
                () -> provider.name() + " is unavailable here: "
                        + provider.availability().reason());
        locks = FileLocks.using(provider);
        lock = dir.resolve("locks").resolve("the.lock");
    }

    private boolean shared() {
        return provider().features().contains(LockFeature.SHARED);
    }

    private ChildJvm holder(LockMode mode) throws Exception {
        ChildJvm child = ChildJvm.lockChild(provider().name(), "hold", lock.toString(), mode.name(), "child-holder");
        child.expect("HELD");
        return child;
    }

    private String childTry(LockMode mode) throws Exception {
        try (ChildJvm child = ChildJvm.lockChild(provider().name(), "try", lock.toString(), mode.name())) {
            String line = child.expect("");
            assertThat(child.awaitExit()).isZero();
            return line.split(" ")[0];
        }
    }

    /**
     * Spins (yielding, never sleeping) until a thread of this JVM is inside the provider's wait for {@code path}
     * ({@link FileLocks#waitingForAnotherProcess}): the wait has really begun, so what follows tests a blocked
     * waiter, not one that has not started yet.
     */
    protected static void awaitInsideProviderWait(Path path, Thread waiter) {
        long deadline = System.nanoTime() + ChildJvm.HANDSHAKE.toNanos();
        while (!FileLocks.waitingForAnotherProcess(path)) {
            if (!waiter.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("waiter never began waiting for " + path + "; alive=" + waiter.isAlive());
            }
            Thread.yield();
        }
    }

    /**
     * The provider under test with {@code beforeLock} run after it opened a lock file and before it locks it, for
     * the replaced-file case; empty (the default) skips that case for a provider without the hook.
     */
    protected Optional<LockProvider> providerWithBeforeLock(java.util.function.Consumer<Path> beforeLock) {
        return Optional.empty();
    }

    /** Like {@link #awaitInsideProviderWait(Path, Thread)}, for an asynchronous waiter (no thread of its own). */
    protected static void awaitInsideProviderWait(Path path) {
        long deadline = System.nanoTime() + ChildJvm.HANDSHAKE.toNanos();
        while (!FileLocks.waitingForAnotherProcess(path)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no waiter began waiting for " + path);
            }
            Thread.yield();
        }
    }

    /** Virtual threads exist from JDK 21; the build targets 17, so they are reached by reflection. */
    private static boolean virtualThreads() {
        return Runtime.version().feature() >= 21;
    }

    private static ExecutorService virtualThreadPerTask() throws ReflectiveOperationException {
        return (ExecutorService)
                Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    }

    private static Thread startVirtualThread(Runnable task) throws ReflectiveOperationException {
        return (Thread)
                Thread.class.getMethod("startVirtualThread", Runnable.class).invoke(null, task);
    }

    /** {@code threads} workers of {@code pool} increment under the lock, taking it through {@code take}. */
    private void excludeEachOther(ExecutorService pool, int threads, LockTaker take) throws Exception {
        Path counter = dir.resolve("counter");
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        CyclicBarrier start = new CyclicBarrier(threads);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < incrementsPerThread(); i++) {
                        try (LockHandle ignored = take.take()) {
                            if (inside.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            LockChild.increment(counter);
                            inside.decrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : results) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(overlaps.get()).isZero();
        assertThat(Files.readString(counter).strip()).isEqualTo(Long.toString((long) threads * incrementsPerThread()));
    }

    @FunctionalInterface
    private interface LockTaker {
        LockHandle take() throws Exception;
    }

    @Test
    void asyncAcquisitionsExcludeEachOther() throws Exception {
        excludeEachOther(
                Executors.newFixedThreadPool(4),
                4,
                () -> locks.acquireAsync(lock, LockOptions.exclusive().waitForever())
                        .get(2, TimeUnit.MINUTES));
        assertThat(FileLocks.waiters(lock)).isZero();
    }

    @Test
    void virtualThreadsExcludeEachOther() throws Exception {
        assumeTrue(virtualThreads(), "virtual threads need JDK 21 or newer; this is " + Runtime.version());
        excludeEachOther(
                virtualThreadPerTask(),
                8,
                () -> locks.acquire(lock, LockOptions.exclusive().waitForever()));
    }

    @Test
    void asyncWaiterGetsTheLockWhenAnotherProcessReleases() throws Exception {
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            CompletableFuture<LockHandle> waiting =
                    locks.acquireAsync(lock, LockOptions.exclusive(Duration.ofMinutes(1)));
            awaitInsideProviderWait(lock);
            assertThat(waiting).isNotDone();
            child.send("release");
            child.expect("RELEASED");
            try (LockHandle handle = waiting.get(1, TimeUnit.MINUTES)) {
                assertThat(handle.isOpen()).isTrue();
                assertThat(childTry(LockMode.EXCLUSIVE)).isEqualTo("BUSY");
            }
        }
    }

    @Test
    void aVirtualThreadWaiterGetsTheLockWhenAnotherProcessReleases() throws Exception {
        assumeTrue(virtualThreads(), "virtual threads need JDK 21 or newer; this is " + Runtime.version());
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch acquired = new CountDownLatch(1);
            Thread waiter = startVirtualThread(() -> {
                try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive(Duration.ofMinutes(1)))) {
                    acquired.countDown();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            awaitInsideProviderWait(lock, waiter);
            child.send("release");
            child.expect("RELEASED");
            waiter.join(TimeUnit.MINUTES.toMillis(1));
            assertThat(failure.get()).isNull();
            assertThat(acquired.getCount()).isZero();
        }
    }

    @Test
    void cancellingAnAsyncWaitForAnotherProcessLeavesNothingHeld() throws Exception {
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            CompletableFuture<LockHandle> waiting =
                    locks.acquireAsync(lock, LockOptions.exclusive().waitForever());
            awaitInsideProviderWait(lock);
            assertThat(waiting.cancel(true)).isTrue();
            long deadline = System.nanoTime() + ChildJvm.HANDSHAKE.toNanos();
            while (FileLocks.waiters(lock) != 0 || FileLocks.waitingForAnotherProcess(lock)) {
                assertThat(System.nanoTime()).as("the cancelled wait ends").isLessThan(deadline);
                Thread.yield();
            }
            child.send("release");
            child.expect("RELEASED");
        }
        assertThat(childTry(LockMode.EXCLUSIVE))
                .as("another process takes it at once")
                .isEqualTo("ACQUIRED");
        Optional<LockHandle> handle = locks.tryAcquire(lock, LockMode.EXCLUSIVE);
        assertThat(handle).isPresent();
        handle.get().close();
    }

    // ---- exclusion ----------------------------------------------------------------------------------

    @Test
    void threadsExcludeEachOther() throws Exception {
        int threads = 4;
        Path counter = dir.resolve("counter");
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < incrementsPerThread(); i++) {
                        try (LockHandle ignored =
                                locks.acquire(lock, LockOptions.exclusive().waitForever())) {
                            if (inside.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            LockChild.increment(counter);
                            inside.decrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(overlaps).hasValue(0);
        assertThat(Files.readString(counter).strip()).isEqualTo(Long.toString((long) threads * incrementsPerThread()));
        assertThat(FileLocks.pathsInUse())
                .as("in-JVM table entries left behind")
                .isZero();
    }

    @Test
    void childJvmsExcludeEachOther() throws Exception {
        int processes = 3;
        int threads = 2;
        Path counter = dir.resolve("counter");
        List<ChildJvm> children = new ArrayList<>();
        try {
            for (int p = 0; p < processes; p++) {
                children.add(ChildJvm.lockChild(
                        provider().name(),
                        "count",
                        lock.toString(),
                        counter.toString(),
                        Integer.toString(threads),
                        Integer.toString(incrementsPerThread())));
            }
            for (ChildJvm child : children) {
                child.expect("DONE");
                assertThat(child.awaitExit())
                        .as("child exit code (3 = overlap)")
                        .isZero();
            }
        } finally {
            for (ChildJvm child : children) {
                child.close();
            }
        }
        assertThat(Files.readString(counter).strip())
                .isEqualTo(Long.toString((long) processes * threads * incrementsPerThread()));
    }

    @Test
    void tryLockFailsWhileAnotherProcessHoldsAndSucceedsAfterRelease() throws Exception {
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            assertThat(locks.tryAcquire(lock, LockMode.EXCLUSIVE)).isEmpty();
            child.send("release");
            child.expect("RELEASED");
        }
        Optional<LockHandle> handle = locks.tryAcquire(lock, LockMode.EXCLUSIVE);
        assertThat(handle).isPresent();
        handle.get().close();
    }

    @Test
    void ourHolderMakesAnotherProcessTryFail() throws Exception {
        try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive())) {
            assertThat(childTry(LockMode.EXCLUSIVE)).isEqualTo("BUSY");
        }
        assertThat(childTry(LockMode.EXCLUSIVE)).isEqualTo("ACQUIRED");
    }

    @Test
    void tryLockFailsWhileAnotherThreadHolds() throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive())) {
                held.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        holder.start();
        assertThat(held.await(1, TimeUnit.MINUTES)).isTrue();
        assertThat(locks.tryAcquire(lock, LockMode.EXCLUSIVE)).isEmpty();
        done.countDown();
        holder.join();
        Optional<LockHandle> handle = locks.tryAcquire(lock, LockMode.EXCLUSIVE);
        assertThat(handle).isPresent();
        handle.get().close();
    }

    // ---- waiting ------------------------------------------------------------------------------------

    @Test
    void timedWaitEndsAfterItsTimeoutAndNotLongAfter() throws Exception {
        Duration timeout = Duration.ofMillis(500);
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> locks.acquire(lock, LockOptions.exclusive(timeout)))
                    .isInstanceOfSatisfying(LockTimeoutException.class, e -> {
                        assertThat(e.path()).contains(lock.toAbsolutePath());
                        assertThat(e.getMessage()).contains(lock.getFileName().toString());
                        assertThat(e.waited()).isGreaterThanOrEqualTo(timeout);
                    });
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            assertThat(elapsed).isGreaterThanOrEqualTo(timeout).isLessThan(timeout.plusSeconds(20));
            child.send("release");
            child.expect("RELEASED");
        }
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void timeoutZeroIsOneAttempt() throws Exception {
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            assertThatThrownBy(() -> locks.acquire(lock, LockOptions.exclusive(Duration.ZERO)))
                    .isInstanceOf(LockTimeoutException.class);
            child.send("release");
            child.expect("RELEASED");
        }
        try (LockHandle handle = locks.acquire(lock, LockOptions.exclusive().tryOnce())) {
            assertThat(handle.isOpen()).isTrue();
        }
    }

    @Test
    void waiterGetsTheLockWhenTheHolderReleases() throws Exception {
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            CountDownLatch waiting = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch acquired = new CountDownLatch(1);
            Thread waiter = new Thread(() -> {
                waiting.countDown();
                try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive(Duration.ofMinutes(1)))) {
                    acquired.countDown();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            waiter.start();
            assertThat(waiting.await(1, TimeUnit.MINUTES)).isTrue();
            awaitInsideProviderWait(lock, waiter);
            child.send("release");
            child.expect("RELEASED");
            waiter.join(TimeUnit.MINUTES.toMillis(1));
            assertThat(failure.get()).isNull();
            assertThat(acquired.getCount()).isZero();
        }
    }

    @Test
    void badArgumentsAreRejectedClearly() throws Exception {
        assertThatThrownBy(() -> locks.acquire(null, LockOptions.exclusive()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> locks.acquire(lock, (LockOptions) null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LockOptions.exclusive(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative");
        assertThatThrownBy(() -> LockOptions.exclusive(null)).isInstanceOf(IllegalArgumentException.class);

        Path directory = Files.createDirectories(dir.resolve("a-directory"));
        assertThatThrownBy(() -> locks.acquire(directory, LockOptions.exclusive()))
                .isInstanceOf(LockException.class)
                .hasMessageContaining("a-directory")
                .hasMessageContaining("directory");

        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertThatThrownBy(() -> locks.acquire(file.resolve("child.lock"), LockOptions.exclusive()))
                .isInstanceOf(LockException.class)
                .hasMessageContaining("a-file")
                .hasMessageContaining("not a directory");
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void interruptWhileWaitingLeavesNothingHeld() throws Exception {
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            CountDownLatch entered = new CountDownLatch(1);
            Thread waiter = new Thread(() -> {
                entered.countDown();
                try (LockHandle ignored =
                        locks.acquire(lock, LockOptions.exclusive().waitForever())) {
                    outcome.set(new AssertionError("acquired a lock that another process holds"));
                } catch (Throwable e) {
                    outcome.set(e);
                }
            });
            waiter.start();
            assertThat(entered.await(1, TimeUnit.MINUTES)).isTrue();
            awaitInsideProviderWait(lock, waiter);
            waiter.interrupt();
            waiter.join(TimeUnit.MINUTES.toMillis(1));
            assertThat(waiter.isAlive())
                    .as("waiter still blocked after interrupt")
                    .isFalse();
            assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
            assertThat(FileLocks.pathsInUse()).isZero();
            child.send("release");
            child.expect("RELEASED");
        }
        try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive(Duration.ofMinutes(1)))) {
            assertThat(childTry(LockMode.EXCLUSIVE))
                    .as("our lock after an interrupted wait")
                    .isEqualTo("BUSY");
        }
        assertThat(childTry(LockMode.EXCLUSIVE)).isEqualTo("ACQUIRED");
    }

    // ---- reentrancy and modes -----------------------------------------------------------------------

    @Test
    void reentrantAcquisitionIsCountedAndTheOsLockTakenOnce() throws Exception {
        LockHandle outer = locks.acquire(lock, LockOptions.exclusive());
        LockHandle inner = locks.acquire(lock, LockOptions.exclusive());
        assertThat(inner.fencingToken()).isEqualTo(outer.fencingToken());
        inner.close();
        assertThat(childTry(LockMode.EXCLUSIVE))
                .as("still held after the inner close")
                .isEqualTo("BUSY");
        outer.close();
        assertThat(childTry(LockMode.EXCLUSIVE)).isEqualTo("ACQUIRED");
    }

    @Test
    void fencingTokensGrowAcrossAcquisitionsAndProcesses() throws Exception {
        long first;
        try (LockHandle handle = locks.acquire(lock, LockOptions.exclusive())) {
            first = handle.fencingToken();
        }
        long second;
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            child.send("release");
            second = Long.parseLong(child.transcript().get(0).split(" ")[1]);
            child.expect("RELEASED");
        }
        long third;
        try (LockHandle handle = locks.acquire(lock, LockOptions.exclusive())) {
            third = handle.fencingToken();
        }
        assertThat(second).isGreaterThan(first);
        assertThat(third).isGreaterThan(second);
    }

    @Test
    void sharedRequestIsRejectedWhenTheProviderHasNoSharedMode() {
        assumeTrue(!shared(), "provider has shared locks");
        assertThatThrownBy(() -> locks.acquire(lock, LockOptions.shared()))
                .isInstanceOf(LockException.class)
                .hasMessageContaining(provider().name())
                .hasMessageContaining("shared");
    }

    @Test
    void upgradeIsRefusedAndDowngradeAllowed() throws Exception {
        assumeTrue(shared(), "provider has no shared locks");
        try (LockHandle ignored = locks.acquire(lock, LockOptions.shared())) {
            assertThatThrownBy(() -> locks.acquire(lock, LockOptions.exclusive()))
                    .isInstanceOf(LockUpgradeException.class)
                    .hasMessageContaining(lock.getFileName().toString());
        }
        try (LockHandle exclusive = locks.acquire(lock, LockOptions.exclusive());
                LockHandle sharedToo = locks.acquire(lock, LockOptions.shared())) {
            assertThat(sharedToo.mode()).isEqualTo(LockMode.SHARED);
            assertThat(exclusive.mode()).isEqualTo(LockMode.EXCLUSIVE);
        }
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void sharedHoldersCoexistAndExcludeAnExclusiveOne() throws Exception {
        assumeTrue(shared(), "provider has no shared locks");
        try (ChildJvm child = holder(LockMode.SHARED)) {
            int threads = 2;
            CyclicBarrier together = new CyclicBarrier(threads);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        try (LockHandle ignored = locks.acquire(lock, LockOptions.shared(Duration.ofMinutes(1)))) {
                            together.await(1, TimeUnit.MINUTES); // both hold at once, beside the child
                            return true;
                        }
                    }));
                }
                for (Future<Boolean> result : results) {
                    assertThat(result.get()).isTrue();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(locks.tryAcquire(lock, LockMode.EXCLUSIVE))
                    .as("exclusive beside a shared holder")
                    .isEmpty();
            assertThat(childTry(LockMode.SHARED)).isEqualTo("ACQUIRED");
            child.send("release");
            child.expect("RELEASED");
        }
        try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive())) {
            assertThat(childTry(LockMode.SHARED))
                    .as("shared beside an exclusive holder")
                    .isEqualTo("BUSY");
        }
    }

    @Test
    void aReadOnlyLockFileCanBeLockedSharedAndExclusiveNeverWritesIt() throws Exception {
        assumeTrue(shared(), "provider has no shared locks");
        Path readOnly = Files.createDirectories(lock.getParent()).resolve("readonly.lock");
        Files.writeString(readOnly, "");
        assumeTrue(Immutable.set(readOnly), "needs chattr +i (root) or a non-root user");
        try {
            try (LockHandle handle = locks.acquire(readOnly, LockOptions.shared(Duration.ZERO))) {
                assertThat(handle.mode()).isEqualTo(LockMode.SHARED);
            }
            try (LockHandle handle = locks.acquire(readOnly, Duration.ZERO)) {
                assertThat(handle.fencingToken()).as("no record, so no fencing").isZero();
            } catch (LockException e) {
                assertThat(e).hasMessageContaining(readOnly.getFileName().toString()); // fcntl needs a writable file
            }
            assertThat(Files.size(readOnly)).isZero();
        } finally {
            Immutable.clear(readOnly);
        }
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    // ---- hostile and foreign files ------------------------------------------------------------------

    private Path victim(String content) throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        return Files.writeString(outside.resolve("victim.txt"), content);
    }

    @Test
    void aSymlinkAtTheLockPathIsRefusedAndItsTargetNeverTouched() throws Exception {
        Path target = victim("precious\n");
        Files.createDirectories(lock.getParent());
        Files.createSymbolicLink(lock, target);
        assertThatThrownBy(() -> locks.acquire(lock, Duration.ZERO))
                .isInstanceOf(LockException.class)
                .hasMessageContaining(lock.getFileName().toString());
        locks.owner(lock); // must not throw or follow
        assertThat(Files.readString(target)).isEqualTo("precious\n");
        assertThat(Files.isSymbolicLink(lock)).isTrue();
        assertThat(dir.resolve("outside"))
                .isDirectoryNotContaining(p -> !p.getFileName().toString().equals("victim.txt"));
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void aHardLinkAtTheLockPathIsRefusedAndTheOtherFileNeverWritten() throws Exception {
        Path target = victim("precious\n");
        Files.createDirectories(lock.getParent());
        Files.createLink(lock, target);
        assertThatThrownBy(() -> locks.acquire(lock, Duration.ZERO))
                .isInstanceOf(LockException.class)
                .hasMessageContaining(lock.getFileName().toString());
        assertThat(Files.readString(target)).isEqualTo("precious\n");
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    @Timeout(value = 1, unit = TimeUnit.MINUTES)
    void aFifoAtTheLockPathIsRefusedWithoutHangingAnyone() throws Exception {
        Files.createDirectories(lock.getParent());
        Process mkfifo = new ProcessBuilder("mkfifo", lock.toString()).start();
        assumeTrue(mkfifo.waitFor() == 0, "needs mkfifo(1)");
        assertThatThrownBy(() -> locks.acquire(lock, Duration.ofSeconds(2)))
                .isInstanceOf(LockException.class)
                .hasMessageContaining(lock.getFileName().toString());
        assertThat(locks.owner(lock)).isNotInstanceOf(LockOwner.Known.class);
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void anExistingFileThatIsNotARecordIsNeverWrittenOrRemoved() throws Exception {
        Files.createDirectories(lock.getParent());
        String script = "#!/bin/sh\n# locks itself, flock \"$0\" style\necho hello\n";
        Files.writeString(lock, script);
        try (LockHandle handle = locks.acquire(lock, Duration.ZERO)) {
            if (recordInLockFile()) {
                assertThat(handle.fencingToken())
                        .as("no record in a foreign file, so no fencing")
                        .isZero();
            }
            assertThat(Files.readString(lock)).isEqualTo(script);
        } catch (LockException e) {
            assertThat(e).hasMessageContaining(lock.getFileName().toString()); // refusing is the other honest answer
        }
        assertThat(Files.readString(lock)).isEqualTo(script);
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void anAcquisitionWhoseRecordCannotBeWrittenHoldsNothing() throws Exception {
        assumeTrue(recordInLockFile(), "the provider keeps no record in a file");
        Files.createDirectories(lock.getParent());
        try (ChildJvm child =
                ChildJvm.lockChild(provider().name(), "attempt-when-told", lock.toString(), "EXCLUSIVE")) {
            child.expect("READY");
            // from now on every write that would grow a file fails with EFBIG, as on a full disk
            Process limit = new ProcessBuilder("prlimit", "--pid", Long.toString(child.pid()), "--fsize=0:0")
                    .redirectErrorStream(true)
                    .start();
            assumeTrue(limit.waitFor() == 0, "needs prlimit(1) from util-linux");
            child.send("go");
            assertThat(child.expect(""))
                    .as("a lock whose owner record could not be written")
                    .startsWith("FAILED");
            child.awaitExit();
        }
        assertThat(childTry(LockMode.EXCLUSIVE)).as("nothing is left held").isEqualTo("ACQUIRED");
    }

    @Test
    void aRecordWrittenByAnotherProcessDuringOurHoldIsReportedAtRelease() throws Exception {
        assumeTrue(recordInLockFile(), "the provider keeps no record in a file");
        LockHandle handle = locks.acquire(lock, Duration.ZERO);
        Path recordFile = recordFileOf(handle);
        byte[] foreign = dev.lockcache.lock.OwnerRecord.forThisProcess("intruder", LockMode.EXCLUSIVE, 99, "x")
                .encode()
                .bytes();
        Path staged = Files.write(dir.resolve("foreign-record"), foreign);
        // written by another process, in place, as a peer with a non-excluding mechanism would
        Process dd =
                new ProcessBuilder("dd", "if=" + staged, "of=" + recordFile, "conv=notrunc", "status=none").start();
        assumeTrue(dd.waitFor() == 0, "needs dd(1)");
        assertThatThrownBy(handle::close).isInstanceOf(dev.lockcache.lock.LockLostException.class);
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    /**
     * Whether the provider keeps its owner record (and so its fencing generation) in the lock file; {@code false}
     * for a provider whose record lives elsewhere (a ZooKeeper node), which skips the cases about that file's
     * record.
     */
    protected boolean recordInLockFile() {
        return true;
    }

    /** Where the provider keeps the record of a lock held through {@code handle}; the lock file itself by default. */
    protected Path recordFileOf(LockHandle handle) {
        return handle.path();
    }

    @Test
    void aLockFileReplacedBetweenOpenAndLockIsNoticedAndTheNewFileLocked() throws Exception {
        Files.createDirectories(lock.getParent());
        AtomicInteger replaced = new AtomicInteger();
        Optional<LockProvider> hooked = providerWithBeforeLock(path -> {
            if (path.equals(lock) && replaced.getAndIncrement() == 0) {
                try {
                    Path fresh = Files.writeString(lock.resolveSibling("fresh"), "");
                    Files.move(fresh, lock, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        assumeTrue(hooked.isPresent(), "provider offers no before-lock hook");
        FileLocks hookedLocks = FileLocks.using(hooked.get());
        try (LockHandle handle = hookedLocks.acquire(lock, Duration.ofSeconds(10))) {
            assertThat(replaced.get()).isGreaterThanOrEqualTo(2);
            assertThat(childTry(LockMode.EXCLUSIVE))
                    .as("the file the path names now is the one held")
                    .isEqualTo("BUSY");
        } finally {
            hooked.get().close();
        }
    }

    @Test
    void anExclusiveWaiterWaitsForEverySharedHolder() throws Exception {
        assumeTrue(shared(), "provider has no shared locks");
        try (ChildJvm first = holder(LockMode.SHARED);
                ChildJvm second = holder(LockMode.SHARED)) {
            first.send("release");
            first.expect("RELEASED");
            assertThat(locks.tryAcquire(lock, LockMode.EXCLUSIVE))
                    .as("one shared holder is left")
                    .isEmpty();
            second.send("release");
            second.expect("RELEASED");
        }
        try (LockHandle handle = locks.acquire(lock, LockOptions.exclusive(Duration.ofMinutes(1)))) {
            assertThat(handle.mode()).isEqualTo(LockMode.EXCLUSIVE);
        }
    }

    // ---- release and records ------------------------------------------------------------------------

    @Test
    void closeIsIdempotent() throws Exception {
        LockHandle handle = locks.acquire(lock, LockOptions.exclusive());
        handle.close();
        handle.close();
        assertThat(handle.isOpen()).isFalse();
        LockHandle again = locks.acquire(lock, LockOptions.exclusive().tryOnce());
        handle.close(); // closing the old handle again must not release the new hold
        assertThat(childTry(LockMode.EXCLUSIVE)).isEqualTo("BUSY");
        again.close();
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void ownerRecordIsReadableByAnotherThreadWhileHeld() throws Exception {
        try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive().withOperation("contract test"))) {
            AtomicReference<LockOwner> seen = new AtomicReference<>();
            Thread reader = new Thread(() -> seen.set(locks.owner(lock)));
            reader.start();
            reader.join();
            assertThat(seen.get()).isInstanceOfSatisfying(LockOwner.Known.class, known -> {
                assertThat(known.record().pid())
                        .isEqualTo(ProcessHandle.current().pid());
                assertThat(known.record().provider()).isEqualTo(provider().name());
                assertThat(known.record().operation()).isEqualTo("contract test");
            });
            assertThat(childTry(LockMode.EXCLUSIVE))
                    .as("reading the record must not drop the lock")
                    .isEqualTo("BUSY");
        }
    }

    @Test
    void ownerRecordNamesAnotherProcessThatHolds() throws Exception {
        try (ChildJvm child = holder(LockMode.EXCLUSIVE)) {
            assertThat(locks.owner(lock)).isInstanceOfSatisfying(LockOwner.Known.class, known -> {
                assertThat(known.record().pid()).isEqualTo(child.pid());
                assertThat(known.record().operation()).isEqualTo("child-holder");
            });
            assertThat(locks.status(lock).held()).isTrue();
            child.send("release");
            child.expect("RELEASED");
        }
        assertThat(locks.status(lock).held()).isFalse();
    }

    @Test
    void probeSaysTheMechanismExcludesOnALocalDirectory() {
        ProbeResult result = provider().probe(dir);
        assertThat(result.verdict()).as(result.reason()).isEqualTo(ProbeResult.Verdict.EXCLUDES);
        assertThat(result.reason()).isNotBlank();
        assertThat(result.fileSystemType()).isNotBlank();
    }
}
