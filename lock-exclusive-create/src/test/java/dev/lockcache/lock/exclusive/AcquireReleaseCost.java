package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.LockRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;

/**
 * Not a test: measures the uncontended acquire+release cycle against a raw JDK CREATE_NEW + write + delete
 * cycle in the same directory, alternating rounds so both see the same machine load. Run with
 * {@code java -cp <test class path> dev.lockcache.lock.exclusive.AcquireReleaseCost [DIR] [ROUNDS]}.
 */
public final class AcquireReleaseCost {

    private AcquireReleaseCost() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory(args.length > 0 ? Path.of(args[0]) : Path.of("/tmp"), "cost");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        int cycles = 2_000;
        ExclusiveCreateLockProvider provider = new ExclusiveCreateLockProvider();
        FileLocks locks = FileLocks.using(provider);
        Path lock = dir.resolve("cost.lock");
        LockRequest request = new LockRequest(lock, LockMode.EXCLUSIVE, "");
        byte[] record = new byte[330];
        double[] raw = new double[rounds];
        double[] spi = new double[rounds];
        double[] api = new double[rounds];
        for (int round = -3; round < rounds; round++) { // three warm-up rounds
            long t0 = System.nanoTime();
            for (int i = 0; i < cycles; i++) {
                rawCycle(dir.resolve("raw.lock"), record);
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < cycles; i++) {
                provider.release(provider.tryLock(request).orElseThrow());
            }
            long t2 = System.nanoTime();
            for (int i = 0; i < cycles; i++) {
                try (LockHandle ignored = locks.acquire(lock, Duration.ZERO)) {
                    // nothing
                }
            }
            long t3 = System.nanoTime();
            if (round >= 0) {
                raw[round] = (t1 - t0) / 1e3 / cycles;
                spi[round] = (t2 - t1) / 1e3 / cycles;
                api[round] = (t3 - t2) / 1e3 / cycles;
            }
        }
        deleteTree(dir);
        System.out.printf(
                "file store %s; median µs per cycle: raw CREATE_NEW+write+delete %.1f, provider tryLock+release %.1f"
                        + " (%.2fx), FileLocks acquire+close %.1f (%.2fx)%n",
                Files.getFileStore(dir.getParent()).type(),
                median(raw),
                median(spi),
                median(spi) / median(raw),
                median(api),
                median(api) / median(raw));
    }

    private static void rawCycle(Path path, byte[] record) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(record));
        }
        Files.delete(path);
    }

    /** Deletes {@code dir} and the files in it (the lock's generation file). */
    static void deleteTree(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
