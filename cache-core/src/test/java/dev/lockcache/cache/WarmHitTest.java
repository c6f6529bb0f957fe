package dev.lockcache.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A warm hit (entry published and matching, mirror already a link to it) is answered without the key's lock;
 * anything that needs work still goes through the lock.
 */
class WarmHitTest {

    @TempDir
    Path tmp;

    @Test
    void aWarmHitNeedsNoLockButAMissingMirrorWaitsForIt() throws Exception {
        AtomicInteger fetches = new AtomicInteger();
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of(
                        "warm",
                        DatasetSource.producer("counter", t -> {
                            fetches.incrementAndGet();
                            Files.writeString(t, "payload");
                        }),
                        "data.txt"))
                .build();
        Path mirror = tmp.resolve("work/data.txt");
        assertThat(cache.fetch("warm", mirror)).isEqualTo(mirror);
        String provider = cache.lockVerdict().providerName();
        Path lockFile = new EntryLayout(cache.root().toRealPath()).lockFile("warm");

        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            try (LockHandle ignored =
                    FileLocks.using(LockProviders.named(provider)).acquire(lockFile, LockOptions.exclusive())) {
                held.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        holder.start();
        try {
            assertThat(held.await(1, TimeUnit.MINUTES)).isTrue();
            FetchOptions impatient = cache.defaultOptions().withLockTimeout(Duration.ofMillis(200));
            // the key is locked by someone else, yet warm hits answer at once
            assertThat(cache.fetch("warm", mirror, impatient)).isEqualTo(mirror);
            assertThat(cache.fetch("warm", impatient)).isEqualTo(cache.entryPath("warm"));
            // a mirror that does not exist yet is work: it waits for the lock (and times out here)
            assertThatThrownBy(() -> cache.fetch("warm", tmp.resolve("other/data.txt"), impatient))
                    .isInstanceOf(CacheException.class)
                    .hasMessageContaining("warm");
            // so is a writable copy, and a refresh
            assertThatThrownBy(() -> cache.fetch("warm", mirror, impatient.withWritableMirror()))
                    .isInstanceOf(CacheException.class);
            assertThatThrownBy(() -> cache.fetch("warm", mirror, impatient.withPolicy(FetchPolicy.ALWAYS)))
                    .isInstanceOf(CacheException.class);
        } finally {
            done.countDown();
            holder.join();
        }
        assertThat(fetches).hasValue(1);
        assertThat(cache.fetch("warm", tmp.resolve("other/data.txt"))).hasContent("payload");
        assertThat(fetches).hasValue(1);
    }

    private DatasetCache counted(AtomicInteger fetches, String content) {
        return TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of(
                        "warm",
                        DatasetSource.producer("counter", t -> {
                            fetches.incrementAndGet();
                            Files.writeString(t, content);
                        }),
                        "data.txt"))
                .build();
    }

    @Test
    void aKnownWarmHitDoesNotReadTheMetadataAgain() throws Exception {
        AtomicInteger fetches = new AtomicInteger();
        DatasetCache cache = counted(fetches, "payload");
        Path mirror = tmp.resolve("work/data.txt");
        cache.fetch("warm", mirror); // fetched, mirrored, identity recorded
        cache.fetch("warm", mirror); // a warm hit the long way: it is remembered
        Path metadata = cache.entryPath("warm").resolveSibling(EntryLayout.METADATA_FILE);
        byte[] recorded = Files.readAllBytes(metadata);
        Files.writeString(metadata, "not=the metadata");
        try {
            assertThat(cache.fetch("warm", mirror)).hasContent("payload");
            assertThat(cache.fetch("warm")).isEqualTo(cache.entryPath("warm"));
        } finally {
            Files.write(metadata, recorded);
        }
        assertThat(fetches).hasValue(1);
        // another cache object over the same root has not seen it: it reads the metadata (here: fine again)
        assertThat(counted(fetches, "payload").fetch("warm", mirror)).hasContent("payload");
        assertThat(fetches).hasValue(1);
    }

    @Test
    void aWriteThroughTheMirrorIsCaughtAfterAKnownWarmHit() throws Exception {
        AtomicInteger fetches = new AtomicInteger();
        DatasetCache cache = counted(fetches, "payload");
        Path mirror = tmp.resolve("work/data.txt");
        cache.fetch("warm", mirror);
        cache.fetch("warm", mirror);
        assertThat(cache.fetch("warm", mirror)).hasContent("payload");
        mirror.toFile().setWritable(true);
        Files.writeString(mirror, "PAYLOAD"); // same size, through the hard link into the entry
        assertThat(cache.fetch("warm", mirror)).hasContent("payload");
        assertThat(fetches).as("the changed entry was refetched").hasValue(2);
    }

    @Test
    void aMirrorThatIsNoLongerALinkGoesTheLongWay() throws Exception {
        AtomicInteger fetches = new AtomicInteger();
        DatasetCache cache = counted(fetches, "payload");
        Path mirror = tmp.resolve("work/data.txt");
        cache.fetch("warm", mirror);
        cache.fetch("warm", mirror);
        Files.delete(mirror);
        Files.writeString(mirror, "other bytes");
        assertThat(cache.fetch("warm", mirror)).hasContent("payload");
        assertThat(Files.isSameFile(mirror, cache.entryPath("warm"))).isTrue();
        assertThat(fetches).hasValue(1);
    }

    @Test
    void aFetchWaitingForAnotherHolderTellsItsWaitListenerWhoHoldsTheLock() throws Exception {
        AtomicInteger fetches = new AtomicInteger();
        DatasetCache cache = counted(fetches, "payload");
        cache.lockVerdict();
        String provider = cache.lockVerdict().providerName();
        Path lockFile = new EntryLayout(cache.root().toRealPath()).lockFile("warm");
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch heard = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<String> operation =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread holder = new Thread(() -> {
            try (LockHandle ignored = FileLocks.using(LockProviders.named(provider))
                    .acquire(lockFile, LockOptions.exclusive().withOperation("other worker"))) {
                held.countDown();
                heard.await(); // released only once the waiting fetch said it waits
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        holder.start();
        try {
            assertThat(held.await(1, TimeUnit.MINUTES)).isTrue();
            FetchOptions options = cache.defaultOptions().withWaitListener((path, waited, owner) -> {
                operation.compareAndSet(null, String.valueOf(owner));
                heard.countDown();
            });
            assertThat(cache.fetch("warm", tmp.resolve("work/data.txt"), options))
                    .hasContent("payload");
        } finally {
            heard.countDown();
            holder.join();
        }
        assertThat(operation.get()).contains("other worker");
        assertThat(fetches).hasValue(1);
    }
}
