package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.curator.framework.state.ConnectionState;

/**
 * One session of {@link EnsembleFailoverJvmsTest}, in a JVM of its own, locking through the public API ({@link
 * FileLocks} over its own provider). Usage: {@code FailoverHolderChild CONNECT GRACE_MS LOCK SHARED_DIR NAME
 * first|waiter ROUNDS}.
 *
 * <p>Inside every critical section it looks at the markers in {@code SHARED_DIR}: an {@code inside-X} marker without
 * a {@code lost-X} note is another session that holds and believes it holds: it prints {@code VIOLATION X}. Then it
 * writes its own {@code inside-NAME} marker and appends its fencing token to {@code SHARED_DIR/grants}; it removes
 * the marker (and its note) before it releases. Its loss listener writes {@code lost-NAME} and prints {@code LOST}.
 *
 * <p>{@code first}: takes the lock, prints {@code HELD TOKEN}, and leaves only after a line on stdin and once its
 * client is back (reconnected, or the session known lost), then prints {@code RELEASED kept} or {@code RELEASED
 * lost}. {@code waiter}: prints {@code WAITING} and queues. Both then take the lock {@code ROUNDS} times (retrying
 * through the outage) and print {@code DONE}.
 */
public final class FailoverHolderChild {

    private static Path shared;
    private static String name;

    private FailoverHolderChild() {}

    public static void main(String[] args) throws Exception {
        ZooKeeperConfig config = ZooKeeperConfig.connectingTo(args[0])
                .withRoot("/failover-jvms")
                .withSessionTimeout(Duration.ofSeconds(5))
                .withConnectionTimeout(Duration.ofSeconds(3))
                .withRetry(Duration.ofMillis(50), Duration.ofMillis(500), 20)
                .withSuspendedGrace(Duration.ofMillis(Long.parseLong(args[1])));
        Path lock = Path.of(args[2]);
        shared = Path.of(args[3]);
        name = args[4];
        boolean first = args[5].equals("first");
        int rounds = Integer.parseInt(args[6]);
        try (ZooKeeperLockProvider provider = new ZooKeeperLockProvider(config)) {
            FileLocks locks = FileLocks.using(provider);
            if (first) {
                CountDownLatch back = new CountDownLatch(1);
                LockHandle handle = acquire(locks, lock);
                provider.session().client().getConnectionStateListenable().addListener((c, state) -> {
                    if (state == ConnectionState.RECONNECTED || state == ConnectionState.LOST) {
                        back.countDown();
                    }
                });
                say("HELD " + handle.fencingToken());
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                if (!back.await(1, TimeUnit.MINUTES)) {
                    say("STUCK the client neither reconnected nor lost its session within a minute");
                }
                say("RELEASED " + (leave(handle) ? "kept" : "lost"));
            } else {
                say("WAITING");
            }
            for (int round = 0; round < rounds; round++) {
                leave(acquire(locks, lock));
            }
            say("DONE");
        }
    }

    /** Takes the lock (retrying what the outage fails), enters the critical section, and returns the handle. */
    private static LockHandle acquire(FileLocks locks, Path lock) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (true) {
            try {
                LockHandle handle = locks.acquire(lock, LockOptions.exclusive(Duration.ofMinutes(1)));
                handle.onLost((h, reason) -> {
                    try {
                        Files.createFile(shared.resolve("lost-" + name));
                    } catch (IOException e) {
                        say("ERROR cannot write the loss note: " + e);
                    }
                    say("LOST " + reason);
                });
                enter(handle.fencingToken());
                return handle;
            } catch (LockIOException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                // the outage: try again
            }
        }
    }

    private static void enter(long token) throws IOException {
        try (Stream<Path> markers = Files.list(shared)) {
            for (Path marker : markers.toList()) {
                String file = marker.getFileName().toString();
                if (file.startsWith("inside-")) {
                    String other = file.substring("inside-".length());
                    if (!Files.exists(shared.resolve("lost-" + other))) {
                        say("VIOLATION " + name + " was granted the lock while " + other + " held it and had not"
                                + " been told it lost it");
                    }
                }
            }
        }
        Files.createFile(shared.resolve("inside-" + name));
        Files.write(
                shared.resolve("grants"),
                List.of(token + " " + name),
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /** Leaves the critical section and releases; true if the lock was kept, false if the release said it was lost. */
    private static boolean leave(LockHandle handle) throws IOException {
        Files.delete(shared.resolve("inside-" + name));
        Files.deleteIfExists(shared.resolve("lost-" + name));
        try {
            handle.close();
            return true;
        } catch (LockLostException e) {
            return false;
        }
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
