package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Not a test: measures the hand-off from a holder in another process to a waiter already waiting here, from
 * the moment the holder starts its release to the moment the waiter holds the lock. The waiter is given a few
 * milliseconds to settle into its wait first (so its backoff pause has grown to several milliseconds and only
 * the watch-service wake-up can make the hand-off fast). Run with {@code java -cp <test class path>
 * dev.lockcache.lock.exclusive.HandoffLatency [ROUNDS]}.
 */
public final class HandoffLatency {

    /** Rounds not counted: class loading, JIT and setting up the directory's watch service. */
    private static final int WARM_UP = 5;

    private HandoffLatency() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        Path lock = Files.createTempDirectory("handoff").resolve("handoff.lock");
        FileLocks locks = FileLocks.using(new ExclusiveCreateLockProvider());
        long[] micros = new long[rounds];
        long[] afterRelease = new long[rounds];
        try (ChildProcess holder = ChildProcess.start("holdloop", lock, Integer.toString(rounds + WARM_UP))) {
            for (int i = -WARM_UP; i < rounds; i++) {
                holder.readLine(); // HELD
                CompletableFuture<LockHandle> waiter = CompletableFuture.supplyAsync(() -> {
                    try {
                        return locks.acquire(lock, LockOptions.exclusive().waitForever());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                });
                TimeUnit.MILLISECONDS.sleep(5); // a benchmark's settling pause, not test synchronisation
                holder.send("go");
                LockHandle handle = waiter.get();
                long held = System.nanoTime();
                String[] released = holder.readLine().split(" ");
                if (i >= 0) {
                    micros[i] = (held - Long.parseLong(released[1])) / 1_000;
                    afterRelease[i] = (held - Long.parseLong(released[2])) / 1_000;
                }
                handle.close();
                holder.send("again");
            }
        }
        AcquireReleaseCost.deleteTree(lock.getParent());
        report("holder starts release -> waiter holds", micros);
        report("holder's release returned -> waiter holds", afterRelease);
    }

    private static void report(String what, long[] micros) {
        Arrays.sort(micros);
        int n = micros.length;
        System.out.printf(
                "%s, %d rounds: p50 %d µs, p90 %d µs, p99 %d µs, max %d µs%n",
                what, n, micros[n / 2], micros[n * 9 / 10], micros[Math.min(n - 1, n * 99 / 100)], micros[n - 1]);
    }
}
