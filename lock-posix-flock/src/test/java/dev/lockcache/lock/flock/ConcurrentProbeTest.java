package dev.lockcache.lock.flock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.ProbeFiles;
import dev.lockcache.lock.spi.ProbeResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: JVMs that start together probe the same lock directory at once. With one shared probe file they
 * saw each other's probe lock, judged flock unavailable, and the strategy then chose different providers in
 * different JVMs for the same lock, which did not exclude each other (found by the cache benchmark). Every
 * concurrent probe must reach the same verdict and leave no probe file behind.
 */
class ConcurrentProbeTest {

    @TempDir
    Path dir;

    @Test
    void concurrentProbesOfOneDirectoryAllSeeExclusion() throws Exception {
        for (LockProvider provider : List.of(new FlockLockProvider())) {
            assumeTrue(
                    provider.availability().available(), provider.availability().reason());
            int probers = 6;
            CyclicBarrier together = new CyclicBarrier(probers);
            ExecutorService pool = Executors.newFixedThreadPool(probers);
            try {
                List<Future<ProbeResult>> results = new ArrayList<>();
                for (int i = 0; i < probers; i++) {
                    LockProvider fresh = new FlockLockProvider(); // no verdict cache shared between probers
                    results.add(pool.submit(() -> {
                        together.await();
                        return fresh.probe(dir);
                    }));
                }
                for (Future<ProbeResult> result : results) {
                    ProbeResult verdict = result.get();
                    assertThat(verdict.verdict()).as(verdict.reason()).isEqualTo(ProbeResult.Verdict.EXCLUDES);
                }
            } finally {
                pool.shutdownNow();
            }
            try (Stream<Path> left = Files.list(dir)) {
                assertThat(left.map(p -> p.getFileName().toString()))
                        .noneMatch(name -> name.startsWith(ProbeFiles.PREFIX));
            }
        }
    }
}
