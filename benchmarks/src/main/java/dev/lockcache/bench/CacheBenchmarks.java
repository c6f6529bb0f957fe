package dev.lockcache.bench;

import dev.lockcache.cache.DatasetCache;
import dev.lockcache.cache.DatasetSource;
import dev.lockcache.cache.DatasetSpec;
import dev.lockcache.cache.FetchPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * cache-core's warm hit: the entry is present and the policy is {@code IF_MISSING}, so a fetch answers without
 * the key's lock; once seen verified, from two {@code stat}s (the entry still has its recorded identity, the
 * mirror is a hard link to it) and no metadata parse. Sampled, so the median can be read off the JMH result.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CacheBenchmarks {

    static final String KEY = "warm";

    /** A cache with one small dataset already fetched. */
    @State(Scope.Thread)
    public static class WarmCache {
        DatasetCache cache;
        Path mirror;

        @Setup
        public void fill() throws IOException {
            Path dir = UncontendedBenchmarks.freshDirectory("cache-");
            Path source = Files.write(dir.resolve("source.bin"), new byte[4096]);
            cache = DatasetCache.builder()
                    .root(dir.resolve("root"))
                    .register(DatasetSpec.of(KEY, DatasetSource.file(source), "data.bin"))
                    .defaultPolicy(FetchPolicy.IF_MISSING)
                    .build();
            cache.fetch(KEY);
            mirror = dir.resolve("work/data.bin");
            cache.fetch(KEY, mirror);
        }
    }

    @Benchmark
    public Path warmHit(WarmCache s) {
        return s.cache.fetch(KEY);
    }

    /** The same with a requested path that already is a hard link to the entry. */
    @Benchmark
    public Path warmHitWithMirror(WarmCache s) {
        return s.cache.fetch(KEY, s.mirror);
    }
}
