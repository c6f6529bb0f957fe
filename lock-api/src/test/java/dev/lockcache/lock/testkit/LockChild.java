package dev.lockcache.lock.testkit;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A child process for the conformance kit. Usage: {@code LockChild PROVIDER COMMAND ARGS...} with commands
 *
 * <ul>
 *   <li>{@code hold PATH MODE [LABEL]}: acquire (waiting forever), print {@code HELD <fencing token>}, wait for
 *       a line on stdin (or its end), release, print {@code RELEASED};
 *   <li>{@code try PATH MODE}: one attempt; print {@code ACQUIRED <token>} (and release) or {@code BUSY};
 *   <li>{@code count LOCK COUNTER THREADS INCREMENTS}: each thread adds 1 to the number in COUNTER, INCREMENTS
 *       times, each under the lock, with a non-atomic read-then-write; an overlap detector (a marker file
 *       created exclusively inside the critical section) prints {@code OVERLAP} and exits 3 if two holders
 *       ever meet; print {@code DONE} at the end.
 * </ul>
 */
public final class LockChild {

    private LockChild() {}

    public static void main(String[] args) throws Exception {
        FileLocks locks = FileLocks.using(LockProviders.named(args[0]));
        switch (args[1]) {
            case "hold" -> hold(locks, Path.of(args[2]), LockMode.valueOf(args[3]), args.length > 4 ? args[4] : "");
            case "try" -> tryOnce(locks, Path.of(args[2]), LockMode.valueOf(args[3]));
            case "attempt" -> attempt(locks, Path.of(args[2]), LockMode.valueOf(args[3]));
            case "attempt-when-told" -> {
                locks.provider().availability(); // native libraries load now, before the parent limits this process
                System.out.println("READY");
                System.out.flush();
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                attempt(locks, Path.of(args[2]), LockMode.valueOf(args[3]));
            }
            case "count" ->
                count(locks, Path.of(args[2]), Path.of(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
            default -> throw new IllegalArgumentException("unknown command " + args[1]);
        }
        System.out.flush();
    }

    private static void hold(FileLocks locks, Path path, LockMode mode, String label) throws Exception {
        LockOptions options =
                LockOptions.exclusive().withMode(mode).withOperation(label).waitForever();
        try (LockHandle handle = locks.acquire(path, options)) {
            System.out.println("HELD " + handle.fencingToken());
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        }
        System.out.println("RELEASED");
    }

    private static void tryOnce(FileLocks locks, Path path, LockMode mode) {
        Optional<LockHandle> handle = locks.tryAcquire(path, mode);
        if (handle.isPresent()) {
            System.out.println("ACQUIRED " + handle.get().fencingToken());
            handle.get().close();
        } else {
            System.out.println("BUSY");
        }
    }

    /** Like "try", but a failure is a line ("FAILED message") rather than a stack trace. */
    private static void attempt(FileLocks locks, Path path, LockMode mode) {
        try {
            tryOnce(locks, path, mode);
        } catch (dev.lockcache.lock.LockException e) {
            System.out.println("FAILED " + e.getMessage().replace('\n', ' '));
        }
    }

    private static void count(FileLocks locks, Path lock, Path counter, int threads, int increments) throws Exception {
        AtomicBoolean overlap = new AtomicBoolean();
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        Path marker = counter.resolveSibling(counter.getFileName() + ".inside");
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    for (int i = 0; i < increments && !overlap.get(); i++) {
                        try (LockHandle ignored =
                                locks.acquire(lock, LockOptions.exclusive().waitForever())) {
                            if (!enter(marker)) {
                                overlap.set(true);
                                return;
                            }
                            increment(counter);
                            Files.delete(marker);
                        }
                    }
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        if (overlap.get()) {
            System.out.println("OVERLAP");
            System.out.flush();
            System.exit(3);
        }
        if (!failures.isEmpty()) {
            failures.get(0).printStackTrace();
            System.out.println("FAILED " + failures.get(0));
            System.out.flush();
            System.exit(4);
        }
        System.out.println("DONE");
    }

    static boolean enter(Path marker) throws IOException {
        try {
            Files.writeString(marker, Long.toString(ProcessHandle.current().pid()), StandardOpenOption.CREATE_NEW);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /** Reads the number in {@code counter} (missing or empty = 0) and writes it plus one, non-atomically. */
    static void increment(Path counter) throws IOException {
        String text = Files.exists(counter) ? Files.readString(counter).strip() : "";
        long value = text.isEmpty() ? 0 : Long.parseLong(text);
        Files.writeString(counter, Long.toString(value + 1));
    }
}
