package dev.lockcache.lock.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.testkit.ChildJvm;
import dev.lockcache.lock.testkit.Immutable;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FcntlChannelsTest {

    @TempDir
    Path dir;

    /**
     * A child JVM that looks at a file's fcntl lock from outside: {@code try PATH} prints FREE or BUSY;
     * {@code hold PATH} locks it (blocking), prints HELD, waits for a line, releases and prints RELEASED.
     */
    public static final class Outsider {
        public static void main(String[] args) throws Exception {
            Path path = Path.of(args[1]);
            try (FileChannel channel = FileChannel.open(
                    path, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
                if (args[0].equals("try")) {
                    FileLock lock = channel.tryLock();
                    System.out.println(lock == null ? "BUSY" : "FREE");
                } else {
                    FileLock lock = channel.lock();
                    System.out.println("HELD");
                    System.out.flush();
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                    lock.release();
                    System.out.println("RELEASED");
                }
            }
            System.out.flush();
        }
    }

    static String lookFromOutside(Path path) throws Exception {
        try (ChildJvm child = ChildJvm.start(Outsider.class, "try", path.toString())) {
            String line = child.expect("");
            child.awaitExit();
            return line;
        }
    }

    @Test
    void aLockHeldThroughTheRegistrySurvivesOwnerReadsAndEvictionPressure() throws Exception {
        FcntlChannels channels = new FcntlChannels(1);
        Path path = dir.resolve("held.lock");
        try (FcntlChannels.Lease lease = channels.open(path)) {
            FileLock lock = lease.tryLock(LockMode.EXCLUSIVE).orElseThrow();
            OwnerRecord record = OwnerRecord.forThisProcess("test", LockMode.EXCLUSIVE, 7, "survive");
            lease.writeAtStart(record.encode().bytes());

            for (int i = 0; i < 5; i++) {
                assertThat(channels.readOwner(path)).isEqualTo(new LockOwner.Known(record));
                assertThat(lease.readOwner()).isEqualTo(new LockOwner.Known(record));
                channels.open(dir.resolve("other-" + i + ".lock")).close(); // pushes idle files out
            }
            assertThat(channels.idleFiles()).isLessThanOrEqualTo(1);

            assertThat(lookFromOutside(path)).isEqualTo("BUSY");
            lock.release();
        }
        assertThat(lookFromOutside(path)).isEqualTo("FREE");
    }

    @Test
    void whyItExists_closingASecondDescriptorDropsTheProcessLock() throws Exception {
        FcntlChannels channels = new FcntlChannels(4);
        Path path = dir.resolve("naive.lock");
        try (FcntlChannels.Lease lease = channels.open(path)) {
            FileLock lock = lease.tryLock(LockMode.EXCLUSIVE).orElseThrow();
            Files.readAllBytes(path); // what a naive owner-record reader does: open, read, close
            assertThat(lookFromOutside(path)).isEqualTo("FREE");
            lock.release();
        }
    }

    @Test
    void idleFilesStayBoundedOverManyPaths() throws Exception {
        FcntlChannels channels = new FcntlChannels(8);
        for (int i = 0; i < 500; i++) {
            try (FcntlChannels.Lease lease = channels.open(dir.resolve(i + ".lock"))) {
                lease.tryLock(LockMode.EXCLUSIVE).orElseThrow().release();
            }
            assertThat(channels.openFiles()).isLessThanOrEqualTo(9);
        }
        assertThat(channels.idleFiles()).isEqualTo(8);
        assertThat(channels.openFiles()).isEqualTo(8);
    }

    @Test
    void readingTheOwnerOfAMissingFileCreatesNothing() {
        FcntlChannels channels = new FcntlChannels(4);
        Path path = dir.resolve("missing.lock");
        assertThat(channels.readOwner(path)).isEqualTo(new LockOwner.Absent());
        assertThat(path).doesNotExist();
        assertThat(channels.openFiles()).isZero();
    }

    @Test
    void aTimedOutWaitEndsWithinTimeAndLeavesNoLockBehind() throws Exception {
        FcntlChannels channels = new FcntlChannels(4);
        Path path = dir.resolve("timeout.lock");
        try (ChildJvm holder = ChildJvm.start(Outsider.class, "hold", path.toString());
                FcntlChannels.Lease lease = channels.open(path)) {
            holder.expect("HELD");
            long start = System.nanoTime();
            Optional<FileLock> lock = lease.awaitLock(LockMode.EXCLUSIVE, TimeUnit.MILLISECONDS.toNanos(200));
            long waited = System.nanoTime() - start;
            assertThat(lock).isEmpty();
            assertThat(waited).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
            assertThat(waited).isLessThan(TimeUnit.SECONDS.toNanos(30));
            assertThat(channels.openFiles()).isEqualTo(1); // the private waiter file is closed

            holder.send("go");
            holder.expect("RELEASED");
            holder.awaitExit();
            assertThat(lookFromOutside(path)).isEqualTo("FREE");
        }
    }

    @Test
    void aTimerThatFiresBeforeTheWaitBeginsIsATimeoutNotAnError() throws Exception {
        // regression: with a very short timeout the timer could close the private file before lock() was
        // entered, and the ClosedChannelException escaped instead of an empty result (seen in DeletedLockFileIT)
        FcntlChannels channels = new FcntlChannels(4);
        Path path = dir.resolve("short.lock");
        try (ChildJvm holder = ChildJvm.start(Outsider.class, "hold", path.toString());
                FcntlChannels.Lease lease = channels.open(path)) {
            holder.expect("HELD");
            for (int round = 0; round < 300; round++) {
                assertThat(lease.awaitLock(LockMode.EXCLUSIVE, 1 + round % 3)).isEmpty();
            }
            assertThat(channels.openFiles()).isEqualTo(1);
            holder.send("go");
            holder.expect("RELEASED");
            holder.awaitExit();
        }
    }

    @Test
    void anInterruptedWaitThrowsAndLeavesNoLockBehind() throws Exception {
        FcntlChannels channels = new FcntlChannels(4);
        Path path = dir.resolve("interrupt.lock");
        try (ChildJvm holder = ChildJvm.start(Outsider.class, "hold", path.toString());
                FcntlChannels.Lease lease = channels.open(path)) {
            holder.expect("HELD");
            AtomicReference<Thread> waiter = new AtomicReference<>();
            CompletableFuture<Object> outcome = CompletableFuture.supplyAsync(() -> {
                waiter.set(Thread.currentThread());
                try {
                    return lease.awaitLock(LockMode.EXCLUSIVE, Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    return e;
                } catch (IOException e) {
                    return e;
                }
            });
            awaitBlockedInKernelLock(waiter);
            waiter.get().interrupt();
            assertThat(outcome.get(30, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);

            holder.send("go");
            holder.expect("RELEASED");
            holder.awaitExit();
            assertThat(lookFromOutside(path)).isEqualTo("FREE");
        }
    }

    @Test
    void aWaiterGetsTheLockWhenTheHolderReleasesAndKeepsItThroughReads() throws Exception {
        FcntlChannels channels = new FcntlChannels(0);
        Path path = dir.resolve("handoff.lock");
        try (ChildJvm holder = ChildJvm.start(Outsider.class, "hold", path.toString());
                FcntlChannels.Lease lease = channels.open(path)) {
            holder.expect("HELD");
            AtomicReference<Thread> waiter = new AtomicReference<>();
            CompletableFuture<Optional<FileLock>> outcome = CompletableFuture.supplyAsync(() -> {
                waiter.set(Thread.currentThread());
                try {
                    return lease.awaitLock(LockMode.EXCLUSIVE, TimeUnit.SECONDS.toNanos(60));
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitBlockedInKernelLock(waiter);
            holder.send("go");
            FileLock lock = outcome.get(60, TimeUnit.SECONDS).orElseThrow();
            holder.awaitExit();

            // the waiter's file became the path's file: reads go through it and the lock survives them
            assertThat(channels.readOwner(path)).isInstanceOf(LockOwner.Unreadable.class);
            channels.open(dir.resolve("push.lock")).close();
            assertThat(lookFromOutside(path)).isEqualTo("BUSY");
            lock.release();
        }
        assertThat(lookFromOutside(path)).isEqualTo("FREE");
        assertThat(channels.openFiles()).isZero();
    }

    @Test
    void aReadOnlyFileCanBeLockedSharedButNotExclusive() throws Exception {
        Path path = dir.resolve("readonly.lock");
        Files.writeString(path, "");
        assumeTrue(Immutable.set(path), "needs chattr +i (an immutable file cannot be written even by root)");
        try {
            FcntlChannels channels = new FcntlChannels(4);
            try (FcntlChannels.Lease lease = channels.open(path)) {
                assertThat(lease.writable()).isFalse();
                FileLock shared = lease.tryLock(LockMode.SHARED).orElseThrow();
                assertThat(shared.isShared()).isTrue();
                shared.release();
                assertThatThrownBy(() -> lease.tryLock(LockMode.EXCLUSIVE))
                        .isInstanceOf(LockIOException.class)
                        .hasMessageContaining(path.toString())
                        .hasMessageContaining("read-only");
            }
        } finally {
            Immutable.clear(path);
        }
    }

    @Test
    void aReplacedFileIsNoticedAndReopened() throws Exception {
        FcntlChannels channels = new FcntlChannels(4);
        Path path = dir.resolve("replaced.lock");
        try (FcntlChannels.Lease lease = channels.open(path)) {
            assertThat(lease.stillNamesPath()).isTrue();
            Path fresh = dir.resolve("fresh");
            Files.writeString(fresh, "new");
            Files.move(fresh, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertThat(lease.stillNamesPath()).isFalse();
            lease.markReplaced();
        }
        try (FcntlChannels.Lease lease = channels.open(path)) {
            assertThat(lease.stillNamesPath()).isTrue();
            assertThat(new String(lease.readStart(16), StandardCharsets.UTF_8)).isEqualTo("new");
        }
        assertThat(channels.openFiles()).isEqualTo(1);
    }

    @Test
    void foreignDescriptorsAreClosedOnlyOnceNoLeaseIsOut() throws Exception {
        FcntlChannels channels = new FcntlChannels(4);
        Path path = dir.resolve("foreign.lock");
        java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
        try (FcntlChannels.Lease lease = channels.open(path)) {
            FileLock lock = lease.tryLock(LockMode.EXCLUSIVE).orElseThrow();
            channels.closeWhenUnlocked(path, closed::incrementAndGet);
            assertThat(closed).hasValue(0);
            lock.release();
        }
        assertThat(closed).hasValue(1);
        channels.closeWhenUnlocked(dir.resolve("unused.lock"), closed::incrementAndGet);
        assertThat(closed).hasValue(2);
    }

    /** Spins (no sleep) until the thread is inside the JDK's blocking native lock call. */
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
