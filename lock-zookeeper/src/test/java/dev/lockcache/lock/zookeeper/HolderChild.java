package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A child JVM that holds one zookeeper lock. Usage: {@code HolderChild CONNECT ROOT SESSION_MS LOCK}. Prints
 * {@code HELD <token>}, then {@code LOST <reason>} if it is told its lock was lost; on a line on stdin it closes the
 * handle and prints {@code RELEASED} or {@code RELEASE-LOST <message>}.
 */
public final class HolderChild {

    private HolderChild() {}

    public static void main(String[] args) throws Exception {
        ZooKeeperConfig config = ZooKeeperConfig.connectingTo(args[0])
                .withRoot(args[1])
                .withSessionTimeout(Duration.ofMillis(Long.parseLong(args[2])))
                .withConnectionTimeout(Duration.ofSeconds(3));
        try (ZooKeeperLockProvider provider = new ZooKeeperLockProvider(config)) {
            FileLocks locks = FileLocks.using(provider);
            LockHandle handle =
                    locks.acquire(Path.of(args[3]), LockOptions.exclusive().waitForever());
            handle.onLost((h, reason) -> {
                System.out.println("LOST " + reason);
                System.out.flush();
            });
            System.out.println("HELD " + handle.fencingToken());
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            try {
                handle.close();
                System.out.println("RELEASED");
            } catch (LockLostException e) {
                System.out.println("RELEASE-LOST " + e.getMessage());
            }
            System.out.flush();
        }
    }
}
