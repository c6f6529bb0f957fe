package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache across "hosts" on ZooKeeper: three JVMs ({@link CacheHostChild}), each in its own private mount
 * namespace where one cache directory is bind-mounted at a different path (as three machines mount one share at
 * different mount points), each configured with the {@code zookeeper} provider and {@code lockcache.zookeeper.base}
 * set to its own view of the cache root, fetch one dataset from a loopback HTTP server that counts GETs, on one go
 * signal. Exactly one download; all three get the same verified bytes, and the entry's record names the provider
 * and one fencing token.
 *
 * <p>The server holds the one download's body back until it sees all three JVMs queued on one lock znode (a
 * ZooKeeper watch on its children, no sleeping): so the test proves that the three views of the cache map to the
 * same node and that the other two really waited for the download, rather than arriving after it. Needs root (the
 * bind mounts in {@code unshare -m}); skipped with a message otherwise.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ZooKeeperSharedCacheIT {

    static final int HOSTS = 3;
    static final int SIZE = 4 << 20;

    /** The key's lock file is ROOT/locks/KEY.lock (cache-core's layout); relative to the base, that znode. */
    static final String LOCK_NODE = "/lockcache/locks/" + CacheHostChild.KEY + ".lock";

    /** A liveness bound for the three JVMs to queue, not a timing. */
    static final long QUEUE_PATIENCE_SECONDS = 60;

    @TempDir
    Path dir;

    @Test
    void threeHostsWithDifferentMountPointsDownloadOnce() throws Exception {
        Tools.requireRoot("bind-mount one cache directory at a different path for each JVM");
        Tools.unshareMount();
        System.setProperty("zookeeper.admin.enableServer", "false");
        System.setProperty("zookeeper.forceSync", "no");

        Path shared = Files.createDirectory(
                dir.resolve("share"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path served = dir.resolve("served.bin");
        String sha256 = generate(served);
        AtomicInteger gets = new AtomicInteger();
        AtomicReference<String> queued = new AtomicReference<>("the download never started");

        ExecutorService serverThreads = Executors.newFixedThreadPool(4);
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        try (TestingServer zookeeper = new TestingServer(true);
                CuratorFramework observer =
                        CuratorFrameworkFactory.newClient(zookeeper.getConnectString(), new RetryOneTime(100))) {
            observer.start();
            http.createContext(
                    "/" + CacheHostChild.FILE_NAME,
                    exchange -> serve(exchange, served, gets, () -> {
                        queued.set(awaitContenders(observer));
                    }));
            http.setExecutor(serverThreads);
            http.start();
            String url = "http://127.0.0.1:" + http.getAddress().getPort() + "/" + CacheHostChild.FILE_NAME;

            List<ChildJvm> hosts = new ArrayList<>();
            List<Path> views = new ArrayList<>();
            List<Path> mirrors = new ArrayList<>();
            try {
                for (int i = 0; i < HOSTS; i++) {
                    Path host = Files.createDirectories(dir.resolve("host-" + (char) ('a' + i)));
                    Path view = Files.createDirectories(host.resolve("mnt-" + i).resolve("cache"));
                    Path mirror = host.resolve("work").resolve(CacheHostChild.FILE_NAME);
                    Files.createDirectories(mirror.getParent());
                    views.add(view);
                    mirrors.add(mirror);
                    hosts.add(ChildJvm.external(
                            hostCommand(shared, view, zookeeper.getConnectString(), url, sha256, mirror)));
                }
                for (ChildJvm host : hosts) {
                    host.expect("READY ");
                }
                for (ChildJvm host : hosts) {
                    host.send("go");
                }
                List<String[]> fetched = new ArrayList<>();
                for (int i = 0; i < HOSTS; i++) {
                    String line = hosts.get(i).expect("FETCH");
                    System.out.printf("host %d (cache at %s): %s%n", i, views.get(i), line);
                    assertThat(line).as("host %d", i).startsWith("FETCHED ");
                    fetched.add(line.split(" "));
                }
                for (ChildJvm host : hosts) {
                    assertThat(host.awaitExit()).isZero();
                }

                assertThat(gets.get()).as("GETs counted by the server").isEqualTo(1);
                assertThat(queued.get())
                        .as("all three JVMs queued on one znode during the download")
                        .isEqualTo("3 contenders");
                long token = Long.parseLong(fetched.get(0)[5]);
                assertThat(token).as("fencing token of the publish").isPositive();
                for (int i = 0; i < HOSTS; i++) {
                    String[] words = fetched.get(i);
                    assertThat(Path.of(words[1])).as("host %d's result", i).isEqualTo(mirrors.get(i));
                    assertThat(words[2]).as("entry sha256 seen by host %d", i).isEqualTo(sha256);
                    assertThat(Long.parseLong(words[3])).isEqualTo(SIZE);
                    assertThat(words[4]).as("provider in the entry's record").isEqualTo("zookeeper");
                    assertThat(Long.parseLong(words[5]))
                            .as("one publish: the same token for everyone")
                            .isEqualTo(token);
                    assertThat(Long.parseLong(words[6])).isEqualTo(SIZE);
                    assertThat(digest(mirrors.get(i))).as("host %d's bytes", i).isEqualTo(sha256);
                }
                try (Stream<Path> files = Files.walk(shared)) {
                    List<Path> entries = files.filter(
                                    p -> p.getFileName().toString().equals(CacheHostChild.FILE_NAME))
                            .toList();
                    assertThat(entries).as("one entry in the shared directory").hasSize(1);
                    assertThat(digest(entries.get(0))).isEqualTo(sha256);
                }
                for (Path view : views) {
                    try (Stream<Path> inView = Files.list(view)) {
                        assertThat(inView)
                                .as("%s is a mount point only inside its JVM", view)
                                .isEmpty();
                    }
                }
            } finally {
                for (ChildJvm host : hosts) {
                    host.close();
                }
            }
        } finally {
            http.stop(0);
            serverThreads.shutdownNow();
        }
    }

    /** {@link CacheHostChild} in a private mount namespace where {@code shared} is bind-mounted on {@code view}. */
    private static List<String> hostCommand(
            Path shared, Path view, String connect, String url, String sha256, Path mirror) {
        List<String> child = Launch.java(
                Map.of("lockcache.zookeeper.connect", connect, "lockcache.zookeeper.base", view.toString()),
                CacheHostChild.class,
                view.toString(),
                url,
                sha256,
                Integer.toString(SIZE),
                mirror.toString());
        return List.of(
                Tools.UNSHARE.toString(),
                "-m",
                "sh",
                "-c",
                "mount --bind " + Launch.quote(shared.toString()) + " " + Launch.quote(view.toString()) + " && exec "
                        + Launch.shell(child));
    }

    /**
     * Waits, with a watch on the lock znode's children, until all three JVMs have a contender node under it (the
     * one downloading and two waiters); returns "3 contenders" or what was seen when the patience ran out.
     */
    private static String awaitContenders(CuratorFramework observer) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(QUEUE_PATIENCE_SECONDS);
        List<String> children = List.of();
        try {
            while (true) {
                CountDownLatch changed = new CountDownLatch(1);
                children = observer.getChildren()
                        .usingWatcher((Watcher) event -> changed.countDown())
                        .forPath(LOCK_NODE);
                if (children.size() >= HOSTS) {
                    return children.size() + " contenders";
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || !changed.await(left, TimeUnit.NANOSECONDS)) {
                    return "only " + children + " under " + LOCK_NODE + " after " + QUEUE_PATIENCE_SECONDS + " s";
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while watching " + LOCK_NODE;
        } catch (Exception e) {
            return "cannot watch " + LOCK_NODE + " (seen " + children + "): " + e;
        }
    }

    private static void serve(HttpExchange exchange, Path dataset, AtomicInteger gets, Runnable beforeBody)
            throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            if (gets.incrementAndGet() == 1) {
                beforeBody.run();
            }
            exchange.sendResponseHeaders(200, Files.size(dataset));
            try (OutputStream body = exchange.getResponseBody()) {
                Files.copy(dataset, body);
            }
        }
    }

    private static String generate(Path file) throws Exception {
        byte[] bytes = new byte[SIZE];
        new SplittableRandom(0x5ca1ab1eL).nextBytes(bytes);
        Files.write(file, bytes);
        return digest(file);
    }

    private static String digest(Path file) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        return HexFormat.of().formatHex(sha.digest(Files.readAllBytes(file)));
    }
}
