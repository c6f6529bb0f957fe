package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A child JVM that takes one lock through the JVM-wide {@code zookeeper} provider of {@link
 * LockProviders#installed()} (configured by the file surefire names in {@code LOCKCACHE_ZOOKEEPER_CONFIG}) and
 * never closes the provider nor the handle. Usage: {@code InstalledHolderChild LOCK exit|return}. Prints {@code
 * HELD <token>}, then on a line on stdin leaves with the lock still held: {@code exit} through {@code
 * System.exit(0)}, {@code return} by returning from {@code main}.
 */
public final class InstalledHolderChild {

    private InstalledHolderChild() {}

    public static void main(String[] args) throws Exception {
        FileLocks locks = FileLocks.using(LockProviders.installed().get(ZooKeeperLockProvider.NAME));
        LockHandle handle =
                locks.acquire(Path.of(args[0]), LockOptions.exclusive().waitForever());
        System.out.println("HELD " + handle.fencingToken());
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        if (args[1].equals("exit")) {
            System.exit(0);
        }
    }
}
