package dev.lockcache.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheDirectoriesTest {

    @TempDir
    Path tmp;

    private static final Path HOME = Path.of("/home/ada");

    @Test
    void lockcacheHomeWinsOverThePlatformDefault() {
        Map<String, String> env = Map.of("LOCKCACHE_HOME", "/data/cache", "XDG_CACHE_HOME", "/xdg");
        assertThat(CacheDirectories.defaultRoot(env::get, "Linux", HOME)).isEqualTo(Path.of("/data/cache"));
    }

    @Test
    void linuxUsesXdgCacheHomeOrDotCache() {
        assertThat(CacheDirectories.defaultRoot(Map.of("XDG_CACHE_HOME", "/xdg")::get, "Linux", HOME))
                .isEqualTo(Path.of("/xdg/lockcache"));
        assertThat(CacheDirectories.defaultRoot(Map.<String, String>of()::get, "Linux", HOME))
                .isEqualTo(Path.of("/home/ada/.cache/lockcache"));
        // a relative XDG value is invalid by the spec and ignored
        assertThat(CacheDirectories.defaultRoot(Map.of("XDG_CACHE_HOME", "rel")::get, "Linux", HOME))
                .isEqualTo(Path.of("/home/ada/.cache/lockcache"));
    }

    @Test
    void macOsUsesLibraryCaches() {
        assertThat(CacheDirectories.defaultRoot(Map.<String, String>of()::get, "Mac OS X", HOME))
                .isEqualTo(Path.of("/home/ada/Library/Caches/lockcache"));
    }

    @Test
    void windowsUsesLocalAppData() {
        Path local = Path.of("/users/ada/appdata/local");
        assertThat(CacheDirectories.defaultRoot(Map.of("LOCALAPPDATA", local.toString())::get, "Windows 11", HOME))
                .isEqualTo(local.resolve("lockcache"));
        assertThat(CacheDirectories.defaultRoot(Map.<String, String>of()::get, "Windows 11", HOME))
                .isEqualTo(HOME.resolve("AppData/Local/lockcache"));
    }

    @Test
    void createdDirectoriesAreOwnerOnlyAndWritable() throws Exception {
        Path dir = tmp.resolve("a/b/cache");
        Path real = CacheDirectories.ensureWritable(dir);
        assertThat(real).isEqualTo(dir.toRealPath());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
                .isEqualTo("rwx------");
        try (var files = Files.list(dir)) {
            assertThat(files).as("the write test leaves nothing").isEmpty();
        }
    }

    @Test
    void manyThreadsCreatingTheSameRootAtOnceAllSucceed() throws Exception {
        int threads = 8;
        Path dir = tmp.resolve("x/y/z/root");
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    return CacheDirectories.ensureWritable(dir);
                }));
            }
            for (Future<Path> f : results) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(dir.toRealPath());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
