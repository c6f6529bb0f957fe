package dev.lockcache.lock.flock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.OwnerRecordSlot;
import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import jnr.constants.platform.Errno;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlockLockProviderTest {

    @TempDir
    Path dir;

    @BeforeEach
    void needsFlock() {
        assumeTrue(
                NativeFlock.availability().available(),
                NativeFlock.availability().reason());
    }

    private static String childTry(String provider, Path path) throws Exception {
        try (ChildJvm child = ChildJvm.lockChild(provider, "try", path.toString(), "EXCLUSIVE")) {
            String line = child.expect("");
            child.awaitExit();
            return line.split(" ")[0];
        }
    }

    @Test
    void errnoIsMappedToAClearException() {
        Path path = Path.of("/locks/x.lock");
        for (Errno unsupported : new Errno[] {Errno.ENOLCK, Errno.ENOSYS, Errno.EOPNOTSUPP}) {
            IOException e = NativeFlock.failure("flock", path, unsupported.intValue());
            assertThat(e)
                    .isInstanceOf(FileSystemException.class)
                    .hasMessageContaining("/locks/x.lock")
                    .hasMessageContaining(Errno.valueOf(unsupported.intValue()).name())
                    .hasMessageContaining("does not support flock");
        }
        assertThat(NativeFlock.failure("open", path, Errno.EACCES.intValue()))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageContaining("EACCES");
        assertThat(NativeFlock.failure("open", path, Errno.ENOENT.intValue())).isInstanceOf(NoSuchFileException.class);
        assertThat(NativeFlock.failure("flock", path, Errno.EBADF.intValue()))
                .hasMessageContaining("flock failed with EBADF")
                .hasMessageContaining("/locks/x.lock");
        assertThat(NativeFlock.failure("flock", path, 99999)).hasMessageContaining("99999");
    }

    @Test
    void aLockFileReplacedBetweenOpenAndLockIsNoticedAndTheNewFileLocked() throws Exception {
        Path path = dir.resolve("replaced.lock");
        AtomicInteger attempts = new AtomicInteger();
        FlockLockProvider provider = new FlockLockProvider(16, FlockLocks.DEFAULT_CREATE_MODE, p -> {
            if (attempts.incrementAndGet() == 1) {
                try {
                    Path fresh = Files.writeString(dir.resolve("fresh"), "");
                    Files.move(fresh, p, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        Object before = Files.readAttributes(dir.resolve("replaced.lock").getParent(), "unix:ino");
        assertThat(before).isNotNull();
        try (LockHandle handle = FileLocks.using(provider).acquire(path, Duration.ZERO)) {
            assertThat(attempts).hasValue(2);
            assertThat(FileLocks.using(provider).owner(path))
                    .isInstanceOfSatisfying(
                            LockOwner.Known.class,
                            known -> assertThat(known.record().pid())
                                    .isEqualTo(ProcessHandle.current().pid()));
            assertThat(childTry("flock", path))
                    .as("the file the path names now")
                    .isEqualTo("BUSY");
            assertThat(handle.fencingToken()).isEqualTo(1);
        }
        assertThat(childTry("flock", path)).isEqualTo("ACQUIRED");
    }

    @Test
    void tenThousandLockFilesDoNotGrowDescriptorsBeyondTheBound() throws Exception {
        FlockLockProvider provider = new FlockLockProvider(32, FlockLocks.DEFAULT_CREATE_MODE, p -> {});
        FileLocks locks = FileLocks.using(provider);
        long before = openDescriptors();
        for (int i = 0; i < 10_000; i++) {
            try (LockHandle ignored = locks.acquire(dir.resolve("many-" + i + ".lock"), Duration.ZERO)) {
                assertThat(provider.idleDescriptors()).isLessThanOrEqualTo(32);
            }
        }
        assertThat(provider.idleDescriptors()).isEqualTo(32);
        // 32 flock descriptors plus the registry's bounded idle files for owner reads (none were read here)
        assertThat(openDescriptors() - before).isLessThanOrEqualTo(32 + 8);
    }

    @Test
    void sharedHoldersCoexistAndGetTheCurrentGeneration() throws Exception {
        FileLocks locks = FileLocks.using(new FlockLockProvider());
        Path path = dir.resolve("shared.lock");
        long exclusive;
        try (LockHandle handle = locks.acquire(path, Duration.ZERO)) {
            exclusive = handle.fencingToken();
        }
        try (LockHandle shared = locks.acquire(path, LockOptions.shared(Duration.ZERO));
                ChildJvm child = ChildJvm.lockChild("flock", "try", path.toString(), "SHARED")) {
            assertThat(shared.fencingToken()).isEqualTo(exclusive);
            assertThat(child.expect("")).startsWith("ACQUIRED " + exclusive);
            assertThat(childTry("flock", path)).isEqualTo("BUSY");
        }
    }

    @Test
    void anInterruptedWaiterHoldsNothingEvenAfterItsAbandonedKernelWaitCompletes() throws Exception {
        FlockLockProvider provider = new FlockLockProvider();
        FileLocks locks = FileLocks.using(provider);
        Path path = dir.resolve("interrupt.lock");
        try (ChildJvm holder = ChildJvm.lockChild("flock", "hold", path.toString(), "EXCLUSIVE")) {
            holder.expect("HELD");
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
            awaitParkedInWait(waiter);
            long interruptedAt = System.nanoTime();
            waiter.get().interrupt();
            assertThat(outcome.get(30, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            assertThat(System.nanoTime() - interruptedAt).isLessThan(TimeUnit.SECONDS.toNanos(30));
            assertThat(provider.parkedWaits()).isEqualTo(1);

            holder.send("release");
            holder.expect("RELEASED");
            holder.awaitExit();
        }
        // the abandoned helper gets the lock now and must give it up by itself
        long deadline = System.nanoTime() + ChildJvm.HANDSHAKE.toNanos();
        while (provider.parkedWaits() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(provider.parkedWaits()).isZero();
        assertThat(childTry("flock", path)).isEqualTo("ACQUIRED");
        try (LockHandle again = locks.acquire(path, Duration.ofMinutes(1))) {
            assertThat(childTry("flock", path)).isEqualTo("BUSY");
        }
    }

    @Test
    void aTimedOutWaiterIsAdoptedByTheNextWaitAndHandsOff() throws Exception {
        FlockLockProvider provider = new FlockLockProvider();
        FileLocks locks = FileLocks.using(provider);
        Path path = dir.resolve("adopt.lock");
        try (ChildJvm holder = ChildJvm.lockChild("flock", "hold", path.toString(), "EXCLUSIVE")) {
            holder.expect("HELD");
            long start = System.nanoTime();
            assertThatThrownBy(() -> locks.acquire(path, Duration.ofMillis(200)))
                    .isInstanceOf(dev.lockcache.lock.LockTimeoutException.class);
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
            assertThat(provider.parkedWaits()).isEqualTo(1);

            CompletableFuture<Long> next = CompletableFuture.supplyAsync(() -> {
                try (LockHandle handle = locks.acquire(path, Duration.ofMinutes(1))) {
                    return handle.fencingToken();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long deadline = System.nanoTime() + ChildJvm.HANDSHAKE.toNanos();
            while (provider.parkedWaits() > 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // adopted: the second waiter took over the parked kernel wait
            }
            assertThat(provider.parkedWaits()).isZero();
            holder.send("release");
            assertThat(next.get(60, TimeUnit.SECONDS)).isEqualTo(2);
        }
        assertThat(childTry("flock", path)).isEqualTo("ACQUIRED");
    }

    @Test
    void aPreviousRecordOfAnotherMechanismIsReportedAndGenerationsContinue() throws Exception {
        Path path = dir.resolve("mixed.lock");
        OwnerRecord foreign = OwnerRecord.forThisProcess("exclusive-create", LockMode.EXCLUSIVE, 41, "");
        Files.write(path, foreign.encode().bytes());
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(OwnerRecordSlot.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        logger.addAppender(seen);
        try {
            FileLocks locks = FileLocks.using(new FlockLockProvider());
            try (LockHandle handle = locks.acquire(path, Duration.ZERO)) {
                assertThat(handle.fencingToken()).isEqualTo(42);
            }
            try (LockHandle handle = locks.acquire(path, Duration.ZERO)) {
                assertThat(handle.fencingToken()).isEqualTo(43);
            }
        } finally {
            logger.detachAppender(seen);
        }
        assertThat(seen.list)
                .filteredOn(e -> e.getFormattedMessage().contains("exclusive-create"))
                .hasSize(1);
    }

    static void awaitParkedInWait(AtomicReference<Thread> thread) {
        long deadline = System.nanoTime() + ChildJvm.HANDSHAKE.toNanos();
        while (System.nanoTime() < deadline) {
            Thread t = thread.get();
            if (t != null
                    && t.getState() == Thread.State.WAITING
                    && Arrays.stream(t.getStackTrace())
                            .anyMatch(f -> f.getClassName().endsWith("KernelWaits$Wait"))) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("the waiter never waited for its kernel wait");
    }

    private static long openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
