package dev.lockcache.lock.ofd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hand-off between two JVMs: this JVM holds the lock, a child JVM waits for it in the kernel (seen in {@code
 * /proc/locks} as a blocked OFD request, or for the polling variant, a process that has tried once), this JVM
 * works for 2 ms more (the critical section), releases, and the child reports when it has the lock. Prints p50/p99 of release-to-acquired for the kernel
 * wait and for polling; asserts only a generous liveness bound.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class OfdHandoffLatencyTest {

    private static final int WARMUP = 30;
    private static final int ROUNDS = 200;
    private static final long HOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    @TempDir
    Path dir;

    @Test
    void aBlockedWaiterInAnotherJvmIsHandedTheLockPromptly() throws Exception {
        long[] kernel = measure("kernel");
        long[] polling = measure("poll");
        report("kernel wait (F_OFD_SETLKW in a helper thread)", kernel);
        report("polling F_OFD_SETLK with the default backoff", polling);
        assertThat(kernel[0]).isPositive();
        assertThat(kernel[ROUNDS / 2])
                .as("liveness: the waiter is woken, not left hanging")
                .isLessThan(TimeUnit.SECONDS.toNanos(1));
    }

    private static void report(String how, long[] latencies) {
        System.out.printf(
                "OFD hand-off between JVMs, %s, %d rounds: p50 %d us, p99 %d us, max %d us%n",
                how,
                ROUNDS,
                latencies[ROUNDS / 2] / 1000,
                latencies[ROUNDS * 99 / 100] / 1000,
                latencies[ROUNDS - 1] / 1000);
    }

    private long[] measure(String waitMode) throws Exception {
        OfdLockProvider provider = new OfdLockProvider();
        assumeTrue(provider.availability().available(), provider.availability().reason());
        assumeTrue(Files.isReadable(Path.of("/proc/locks")), "needs /proc/locks to see the waiter block");
        FileLocks locks = FileLocks.using(provider);
        Path lock = dir.resolve(waitMode + ".lock");
        Files.writeString(lock, "");
        String inode = ":"
                + Files.readAttributes(lock, BasicFileAttributes.class)
                        .fileKey()
                        .toString()
                        .replaceAll(".*ino=(\\d+).*", "$1")
                + " ";
        long[] latencies = new long[ROUNDS];
        try (ChildJvm child = ChildJvm.start(HandoffChild.class, lock.toString(), waitMode)) {
            for (int round = -WARMUP; round < ROUNDS; round++) {
                LockHandle held = locks.acquire(lock, LockOptions.exclusive().waitForever());
                child.send("acquire");
                child.expect("TRYING");
                if (waitMode.equals("kernel")) {
                    awaitBlockedWaiter(inode);
                }
                work(HOLD_NANOS); // the critical section's work, so that a polling waiter is in its backoff
                long released = System.nanoTime();
                held.close();
                long acquired = Long.parseLong(child.expect("HELD ").substring(5));
                child.send("release");
                child.expect("RELEASED");
                if (round >= 0) {
                    latencies[round] = acquired - released;
                }
            }
        }
        Arrays.sort(latencies);
        return latencies;
    }

    private static void work(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    /** Waits until {@code /proc/locks} shows a blocked request ("->") on the lock file's inode. */
    private static void awaitBlockedWaiter(String inode) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (true) {
            for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
                if (line.contains("->") && line.contains(inode)) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the child never blocked on the lock");
            }
            Thread.onSpinWait();
        }
    }
}
