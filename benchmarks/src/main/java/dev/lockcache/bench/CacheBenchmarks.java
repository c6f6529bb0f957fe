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
 * cache-core's warm hit: the entry is present and the policy is {@code IF_MISSING}, so a fetch takes the
 * key's lock (through the strategy's choice for the cache directory), finds the entry and returns it.
 * Sampled, so the median can be read off the JMH result.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CacheBenchmarks {

    static final String KEY = "warm";

    /** A cache with one small dataset already fetched. */
    @State(Scope.Thread)
    public static class WarmCache {
        DatasetCache cache;

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
        }
    }

    @Benchmark
    public Path warmHit(WarmCache s) {
        return s.cache.fetch(KEY);
    }
}
