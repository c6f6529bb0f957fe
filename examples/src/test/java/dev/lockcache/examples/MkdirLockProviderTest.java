package dev.lockcache.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.ProbeResult;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example provider, found as a user's would be (a {@code META-INF/services} entry), and locking through the
 * framework: threads exclude each other, a holder outside the table (another process's {@code mkdir}) makes
 * tries fail and timed waits time out, asynchronous waiters queue, and release removes the directory.
 */
class MkdirLockProviderTest {

    @TempDir
    Path dir;

    @Test
    void serviceLoaderFindsItByName() throws Exception {
        Path services = Files.createDirectories(dir.resolve("classes/META-INF/services"));
        Files.writeString(services.resolve(LockProvider.class.getName()), MkdirLockProvider.class.getName() + "\n");
        try (URLClassLoader loader = new URLClassLoader(
                new URL[] {dir.resolve("classes").toUri().toURL()}, getClass().getClassLoader())) {
            Map<String, LockProvider> found = LockProviders.load(loader);
            assertThat(found).containsKey(MkdirLockProvider.NAME);
            assertThat(LockProviders.named(MkdirLockProvider.NAME, found)).isInstanceOf(MkdirLockProvider.class);
        }
    }

    @Test
    void itsProbeExcludesOnALocalDirectory() {
        assertThat(new MkdirLockProvider().probe(dir).verdict()).isEqualTo(ProbeResult.Verdict.EXCLUDES);
    }

    @Test
    void threadsExcludeEachOtherAndReleaseRemovesTheDirectory() throws Exception {
        FileLocks locks = FileLocks.using(new MkdirLockProvider());
        Path lock = dir.resolve("job.lock");
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            workers.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 50; i++) {
                    try (LockHandle ignored =
                            locks.acquire(lock, LockOptions.exclusive().waitForever())) {
                        if (inside.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        inside.decrementAndGet();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }));
        }
        CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(1, TimeUnit.MINUTES);
        assertThat(overlaps.get()).isZero();
        assertThat(dir.resolve("job.lock.d")).doesNotExist();
    }

    @Test
    void aHolderOutsideThisJvmMakesTriesFailAndAsyncWaitersWait() throws Exception {
        MkdirLockProvider provider = new MkdirLockProvider();
        FileLocks locks = FileLocks.using(provider);
        Path lock = dir.toRealPath().resolve("other.lock");
        // the provider called directly stands for another process's mkdir: the in-JVM table does not know it
        var elsewhere =
                provider.tryLock(new LockRequest(lock, LockMode.EXCLUSIVE, "")).orElseThrow();
        assertThat(locks.tryAcquire(lock, LockMode.EXCLUSIVE)).isEmpty();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> locks.acquire(lock, Duration.ofMillis(50)))
                .isInstanceOf(LockTimeoutException.class);
        CompletableFuture<LockHandle> waiting =
                locks.acquireAsync(lock, LockOptions.exclusive().waitForever());
        assertThat(waiting).isNotDone();
        provider.release(elsewhere);
        try (LockHandle handle = waiting.get(1, TimeUnit.MINUTES)) {
            assertThat(handle.provider()).isEqualTo(MkdirLockProvider.NAME);
            assertThat(dir.resolve("other.lock.d")).isDirectory();
        }
        assertThat(dir.resolve("other.lock.d")).doesNotExist();
    }
}
