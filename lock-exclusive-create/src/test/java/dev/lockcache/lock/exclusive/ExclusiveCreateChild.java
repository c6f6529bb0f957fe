package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * A child process for the multi-process tests. Usage: {@code ExclusiveCreateChild COMMAND PATH}, with
 *
 * <ul>
 *   <li>{@code hold}: acquire (forever), print {@code HELD <fencing token>}, wait for a line on stdin, release,
 *       print {@code RELEASED};
 *   <li>{@code try}: one attempt; print {@code ACQUIRED <token>} (and release) or {@code BUSY};
 *   <li>{@code fail}: one attempt expected to fail with an I/O error; print {@code IOFAILED <operation>} or
 *       {@code UNEXPECTED <what happened>};
 *   <li>{@code holdloop N}: N times: acquire, print {@code HELD}, wait for a line, print {@code RELEASED
 *       <System.nanoTime() before the release> <and after it>}, wait for a line again (for {@link HandoffLatency}).
 * </ul>
 */
public final class ExclusiveCreateChild {

    private ExclusiveCreateChild() {}

    public static void main(String[] args) throws Exception {
        FileLocks locks = FileLocks.using(new ExclusiveCreateLockProvider().withLease(Duration.ofSeconds(60)));
        Path path = Path.of(args[1]);
        // Monotonic nanoTime is one clock for all processes of a Linux host, so HandoffLatency may compare.
        switch (args[0]) {
            case "hold" -> {
                try (LockHandle handle =
                        locks.acquire(path, LockOptions.exclusive().waitForever())) {
                    System.out.println("HELD " + handle.fencingToken());
                    System.out.flush();
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                }
                System.out.println("RELEASED");
            }
            case "try" -> {
                Optional<LockHandle> handle = locks.tryAcquire(path, dev.lockcache.lock.LockMode.EXCLUSIVE);
                System.out.println(
                        handle.map(h -> "ACQUIRED " + h.fencingToken()).orElse("BUSY"));
                handle.ifPresent(LockHandle::close);
            }
            case "fail" -> {
                try {
                    locks.acquire(path, Duration.ZERO).close();
                    System.out.println("UNEXPECTED acquired");
                } catch (LockIOException e) {
                    System.out.println("IOFAILED " + e.operation() + " | " + e.getMessage());
                }
            }
            case "holdloop" -> {
                // for HandoffLatency: hold, wait for "go", release and print when the release began
                BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (int i = 0; i < Integer.parseInt(args[2]); i++) {
                    LockHandle handle =
                            locks.acquire(path, LockOptions.exclusive().waitForever());
                    System.out.println("HELD");
                    System.out.flush();
                    stdin.readLine();
                    long releasing = System.nanoTime();
                    handle.close();
                    System.out.println("RELEASED " + releasing + " " + System.nanoTime());
                    System.out.flush();
                    stdin.readLine(); // the waiter has taken and released it
                }
            }
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
        System.out.flush();
    }
}
