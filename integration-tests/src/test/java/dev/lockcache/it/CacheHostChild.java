package dev.lockcache.it;

import dev.lockcache.cache.DatasetCache;
import dev.lockcache.cache.DatasetSource;
import dev.lockcache.cache.DatasetSpec;
import dev.lockcache.cache.EntryInfo;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One "host" of {@link ZooKeeperSharedCacheIT}: a JVM that sees the shared cache at its own path. Usage: {@code
 * CacheHostChild ROOT URL SHA256 SIZE MIRROR}, with the zookeeper provider configured by system properties
 * ({@code lockcache.zookeeper.connect}, {@code lockcache.zookeeper.base}). Builds the cache on {@code ROOT} with the
 * provider named {@code zookeeper}, prints {@code READY}, waits for a line on stdin, fetches the dataset into
 * {@code MIRROR} and prints {@code FETCHED PATH ENTRY-SHA256 ENTRY-SIZE PROVIDER TOKEN} from the entry's record (or
 * {@code FETCH-FAILED message}), then exits normally, so that the JVM-wide provider is closed by the JVM's exit.
 */
public final class CacheHostChild {

    static final String KEY = "shared-dataset";
    static final String FILE_NAME = "shared.bin";

    private CacheHostChild() {}

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        DatasetCache cache = DatasetCache.builder()
                .root(root)
                .provider("zookeeper")
                .register(DatasetSpec.of(KEY, DatasetSource.url(args[1]), FILE_NAME)
                        .withSha256(args[2])
                        .withSize(Long.parseLong(args[3])))
                .build();
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        if (new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine() == null) {
            return; // the test went away before the start
        }
        try {
            Path got = cache.fetch(KEY, Path.of(args[4]));
            EntryInfo entry = cache.entry(KEY).orElseThrow(() -> new AssertionError("no entry recorded after fetch"));
            System.out.println("FETCHED " + got + " " + entry.sha256() + " " + entry.size() + " " + entry.lockProvider()
                    + " " + entry.fencingToken() + " " + Files.size(got));
        } catch (RuntimeException e) {
            System.out.println("FETCH-FAILED " + String.valueOf(e).replace('\n', ' '));
        }
        System.out.flush();
    }
}
