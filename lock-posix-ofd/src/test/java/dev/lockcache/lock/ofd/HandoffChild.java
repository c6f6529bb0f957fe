package dev.lockcache.lock.ofd;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The waiting side of {@link OfdHandoffLatencyTest}, in a child JVM: on {@code acquire} it prints {@code TRYING}, waits for the lock
 * at {@code args[0]} (in the kernel if {@code args[1]} is {@code kernel}, else polling) and prints {@code HELD <System.nanoTime()>} the moment it has it; on {@code release} it
 * releases and prints {@code RELEASED}; on end of input it exits. {@code System.nanoTime()} reads
 * CLOCK_MONOTONIC on Linux, which all processes of a host share, so the parent can subtract its own reading.
 */
public final class HandoffChild {

    private HandoffChild() {}

    public static void main(String[] args) throws Exception {
        FileLocks locks =
                FileLocks.using(new OfdLockProvider(OfdLockProvider.DEFAULT_OPEN_FILES, args[1].equals("kernel")));
        Path lock = Path.of(args[0]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        LockHandle held = null;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.equals("acquire")) {
                System.out.println("TRYING");
                System.out.flush();
                held = locks.acquire(lock, LockOptions.exclusive().waitForever());
                long now = System.nanoTime();
                System.out.println("HELD " + now);
            } else if (line.equals("release") && held != null) {
                held.close();
                held = null;
                System.out.println("RELEASED");
            }
            System.out.flush();
        }
    }
}
