package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.bytes;
import static dev.lockcache.cache.TestData.debris;
import static dev.lockcache.cache.TestData.read;
import static dev.lockcache.cache.TestData.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DatasetCacheTest {

    @TempDir
    Path tmp;

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopPool() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }

    /** A producer that writes "v<n>" for its n-th call, after an optional gate, counting calls. */
    static final class CountingProducer implements DatasetProducer {
        final AtomicInteger started = new AtomicInteger();
        volatile CountDownLatch gate = new CountDownLatch(0);

        @Override
        public void produce(Path target) throws IOException, InterruptedException {
            int n = started.incrementAndGet();
            assertThat(gate.await(30, TimeUnit.SECONDS)).as("gate").isTrue();
            Files.writeString(target, "v" + n);
        }
    }

    private DatasetCache cacheWith(DatasetProducer producer) {
        return TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of("ds", DatasetSource.producer("counting", producer), "data.txt"))
                .build();
    }

    /** Runs {@code callers} fetches at once; the first producer call waits until every caller has called fetch. */
    private List<Future<String>> concurrentFetches(
            DatasetCache cache, CountingProducer producer, FetchPolicy policy, int callers, boolean sameTarget)
            throws InterruptedException {
        CountDownLatch arrived = new CountDownLatch(callers);
        producer.gate = arrived;
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            Path target = tmp.resolve("work").resolve(sameTarget ? "data.txt" : "data-" + i + ".txt");
            results.add(pool.submit(() -> {
                int startedBefore = producer.started.get();
                arrived.countDown();
                Path got = cache.fetch("ds", target, policy);
                String content = read(got);
                if (policy == FetchPolicy.ALWAYS) {
                    // bytes from a refresh that started after this call began
                    assertThat(Integer.parseInt(content.substring(1))).isGreaterThan(startedBefore);
                }
                return got + "=" + content;
            }));
        }
        return results;
    }

    @Test
    void threeThreadsIfMissingFetchOnceAndShareThePathAndBytes() throws Exception {
        CountingProducer producer = new CountingProducer();
        DatasetCache cache = cacheWith(producer);
        List<Future<String>> results = concurrentFetches(cache, producer, FetchPolicy.IF_MISSING, 3, true);
        List<String> seen = new ArrayList<>();
        for (Future<String> f : results) {
            seen.add(f.get(60, TimeUnit.SECONDS));
        }
        assertThat(producer.started.get()).isEqualTo(1);
        assertThat(seen).containsOnly(tmp.resolve("work/data.txt").toAbsolutePath() + "=v1");
        assertThat(debris(tmp)).isEmpty();
    }

    @Test
    void alwaysWithManyThreadsNeverMissesTheFileAndFetchesAtMostTwice() throws Exception {
        for (int callers : new int[] {3, 8}) {
            CountingProducer producer = new CountingProducer();
            DatasetCache cache = cacheWith(producer);
            cache.fetch("ds", tmp.resolve("seed.txt"), FetchPolicy.IF_MISSING); // an older entry exists
            producer.started.set(1);
            List<Future<String>> results = concurrentFetches(cache, producer, FetchPolicy.ALWAYS, callers, true);
            for (Future<String> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).doesNotContain("=v1");
            }
            assertThat(producer.started.get() - 1)
                    .as("refreshes for %d callers", callers)
                    .isBetween(1, 2);
            assertThat(debris(tmp)).isEmpty();
            clean(tmp.resolve("root"));
        }
    }

    @Test
    void alwaysCallersWhoArriveDuringARefreshShareTheNextOne() throws Exception {
        CountingProducer producer = new CountingProducer();
        DatasetCache cache = cacheWith(producer);
        CountDownLatch firstInside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DatasetProducer gated = target -> {
            int n = producer.started.incrementAndGet();
            if (n == 1) {
                firstInside.countDown();
                assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
            }
            Files.writeString(target, "v" + n);
        };
        cache.register(DatasetSpec.of("ds", DatasetSource.producer("gated", gated), "data.txt"));
        Future<Path> first = pool.submit(() -> cache.fetch("ds", tmp.resolve("a.txt"), FetchPolicy.ALWAYS));
        assertThat(firstInside.await(30, TimeUnit.SECONDS)).isTrue();
        // these arrive while refresh 1 runs: it started before them, so they must not take its bytes
        List<Future<Path>> late = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Path target = tmp.resolve("late-" + i + ".txt");
            late.add(pool.submit(() -> cache.fetch("ds", target, FetchPolicy.ALWAYS)));
        }
        awaitWaiters(tmp.resolve("root").resolve("locks").resolve("ds.lock"), 4);
        release.countDown();
        assertThat(read(first.get(60, TimeUnit.SECONDS))).isEqualTo("v1");
        for (Future<Path> f : late) {
            assertThat(read(f.get(60, TimeUnit.SECONDS))).isEqualTo("v2");
        }
        assertThat(producer.started.get()).isEqualTo(2);
    }

    /**
     * Waits until {@code n} threads of this JVM wait for the key's lock ({@link
     * dev.lockcache.lock.FileLocks#waiters}), i.e. queued behind the holder. They read the refresh counter before
     * queueing, so once queued they have noted that refresh 1 had started.
     */
    private static void awaitWaiters(Path lockFile, int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (dev.lockcache.lock.FileLocks.waiters(lockFile) < n) {
            assertThat(System.nanoTime()).as("late callers never queued").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    @Test
    void aFailedRefreshKeepsTheEntryAndItsMirrorAndLeavesNoDebris() throws Exception {
        AtomicReference<String> mode = new AtomicReference<>("ok");
        DatasetProducer producer = target -> {
            Files.writeString(target, "partial");
            if (mode.get().equals("fail")) {
                throw new IOException("source went away");
            }
            Files.writeString(target, "good");
        };
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of("ds", DatasetSource.producer("flaky", producer), "data.txt"))
                .build();
        Path mirror = tmp.resolve("work/data.txt");
        cache.fetch("ds", mirror);
        mode.set("fail");
        assertThatThrownBy(() -> cache.fetch("ds", mirror, FetchPolicy.ALWAYS))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("'ds'")
                .hasMessageContaining("producer 'flaky'")
                .hasMessageContaining("source went away");
        assertThat(read(mirror)).isEqualTo("good");
        assertThat(read(cache.entryPath("ds"))).isEqualTo("good");
        assertThat(debris(tmp)).isEmpty();
        // the lock was released: a later fetch gets through
        assertThat(read(cache.fetch("ds", mirror, FetchPolicy.NEVER))).isEqualTo("good");
    }

    @Test
    void aDigestMismatchPublishesNothingAndNamesBothDigests() {
        byte[] good = bytes("expected content");
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of(
                                "ds",
                                DatasetSource.producer("wrong", target -> Files.writeString(target, "other content")),
                                "data.txt")
                        .withSha256(sha256(good)))
                .build();
        assertThatThrownBy(() -> cache.fetch("ds", tmp.resolve("out.txt")))
                .isInstanceOfSatisfying(CacheIntegrityException.class, e -> {
                    assertThat(e.property()).isEqualTo("sha256");
                    assertThat(e.expected()).isEqualTo(sha256(good));
                    assertThat(e.actual()).isEqualTo(sha256(bytes("other content")));
                })
                .hasMessageContaining(sha256(good))
                .hasMessageContaining(sha256(bytes("other content")));
        assertThat(cache.entryPath("ds")).doesNotExist();
        assertThat(tmp.resolve("out.txt")).doesNotExist();
        assertThat(debris(tmp)).isEmpty();
    }

    /**
     * The state a refresh leaves when the entry's rename happened and the metadata's rename after it failed (the
     * integration suite injects exactly that with strace): the entry holds the new bytes, the metadata still
     * describes the old ones and names the new file as pending. A re-hash that gives the pending digest adopts
     * it; anything else is corruption.
     */
    @ParameterizedTest(name = "entry holds {0}")
    @ValueSource(strings = {"v2", "tampered"})
    void anEntryWhoseRecordWasLostIsAdoptedByItsPendingDigestAndNothingElseIs(String content) throws Exception {
        CountingProducer producer = new CountingProducer();
        DatasetCache cache = cacheWith(producer);
        Path entry = cache.fetch("ds");
        Path root = cache.lockVerdict().directory().getParent();
        EntryMetadata v1 = TestData.metadata(root, "ds", entry);
        EntryInfo old = v1.published().orElseThrow();
        EntryInfo v2 = new EntryInfo(
                "ds",
                entry,
                old.source(),
                sha256(bytes("v2")),
                2,
                old.lockProvider(),
                old.fencingToken(),
                old.refresh() + 1,
                java.time.Instant.now());
        TestData.writeMetadata(root, "ds", v1.withPending(v2));
        Path renamed = entry.resolveSibling("renamed-in");
        Files.writeString(renamed, content);
        Files.move(renamed, entry, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        if (content.equals("v2")) {
            assertThat(read(cache.fetch("ds", FetchOptions.of(FetchPolicy.NEVER))))
                    .isEqualTo("v2");
            EntryMetadata adopted = TestData.metadata(root, "ds", entry);
            assertThat(adopted.published()).contains(v2);
            assertThat(adopted.pending()).isEmpty();
            assertThat(adopted.identity()).isPresent();
        } else {
            assertThatThrownBy(() -> cache.fetch("ds", FetchOptions.of(FetchPolicy.NEVER)))
                    .isInstanceOf(CacheIntegrityException.class)
                    .hasMessageContaining(entry.toString());
        }
        assertThat(producer.started.get()).isEqualTo(1);
    }

    @Test
    void aSizeMismatchIsAnIntegrityError() {
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of(
                                "ds", DatasetSource.producer("short", t -> Files.writeString(t, "abc")), "data.txt")
                        .withSize(4))
                .build();
        assertThatThrownBy(() -> cache.fetch("ds"))
                .isInstanceOf(CacheIntegrityException.class)
                .hasMessageContaining("expected 4 bytes, got 3 bytes");
    }

    @Test
    void neverIsOfflineUntilSomethingIsCachedAndThenNeverFetches() {
        CountingProducer producer = new CountingProducer();
        DatasetCache cache = cacheWith(producer);
        assertThatThrownBy(() -> cache.fetch("ds", tmp.resolve("x.txt"), FetchPolicy.NEVER))
                .isInstanceOf(CacheOfflineException.class)
                .hasMessageContaining("'ds'")
                .hasMessageContaining(tmp.resolve("root").toString());
        assertThat(producer.started.get()).isZero();
        cache.fetch("ds", tmp.resolve("x.txt"));
        assertThat(read(cache.fetch("ds", tmp.resolve("y.txt"), FetchPolicy.NEVER)))
                .isEqualTo("v1");
        assertThat(producer.started.get()).isEqualTo(1);
    }

    @Test
    void entriesAreReadOnlyAndTheDefaultMirrorIsAHardLinkToThem() throws IOException {
        DatasetCache cache = cacheWith(new CountingProducer());
        Path mirror = cache.fetch("ds", tmp.resolve("work/data.txt"));
        Path entry = cache.entryPath("ds");
        assertThat(Files.isSameFile(mirror, entry)).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(entry)))
                .isEqualTo("r--r--r--");
        if (!"root".equals(System.getProperty("user.name"))) {
            assertThatThrownBy(() -> Files.writeString(mirror, "corrupt")).isInstanceOf(IOException.class);
        }
        // idempotent: again into the same path keeps the same link and leaves nothing behind
        Object inode = Files.readAttributes(mirror, "unix:ino").get("ino");
        cache.fetch("ds", mirror);
        assertThat(Files.readAttributes(mirror, "unix:ino").get("ino")).isEqualTo(inode);
        assertThat(debris(tmp)).isEmpty();
    }

    @Test
    void aWritableMirrorIsAPrivateCopy() throws IOException {
        DatasetCache cache = cacheWith(new CountingProducer());
        Path mirror = cache.fetch(
                "ds", tmp.resolve("work/data.txt"), cache.defaultOptions().withWritableMirror());
        assertThat(Files.isSameFile(mirror, cache.entryPath("ds"))).isFalse();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(mirror)))
                .isEqualTo("rw-r--r--");
        Files.writeString(mirror, "changed by the program");
        assertThat(read(cache.entryPath("ds"))).isEqualTo("v1");
        // the changed copy is outdated: the next fetch puts the entry's bytes back
        cache.fetch("ds", mirror, cache.defaultOptions().withWritableMirror());
        assertThat(read(mirror)).isEqualTo("v1");
    }

    @Test
    void anOutdatedMirrorIsReplacedAfterARefresh() throws IOException {
        CountingProducer producer = new CountingProducer();
        DatasetCache cache = cacheWith(producer);
        Path mirror = tmp.resolve("work/data.txt");
        cache.fetch("ds", mirror);
        cache.fetch("ds", tmp.resolve("other.txt"), FetchPolicy.ALWAYS);
        assertThat(read(mirror)).isEqualTo("v1"); // still the old inode
        cache.fetch("ds", mirror, FetchPolicy.IF_MISSING);
        assertThat(read(mirror)).isEqualTo("v2");
        assertThat(Files.isSameFile(mirror, cache.entryPath("ds"))).isTrue();
    }

    @Test
    void leftoversOfACrashedFetchAreRemovedByTheNextFetchOfTheKey() throws IOException {
        DatasetCache cache = cacheWith(new CountingProducer());
        Path mirror = tmp.resolve("work/data.txt");
        cache.fetch("ds", mirror);
        Path entryLeftover = EntryLayout.tempSibling(cache.entryPath("ds"));
        Path mirrorLeftover = EntryLayout.tempSibling(mirror);
        Files.writeString(entryLeftover, "half a download");
        Files.writeString(mirrorLeftover, "half a copy");
        Path unrelated = tmp.resolve("work/.notes.txt.part");
        Files.writeString(unrelated, "not ours");
        cache.fetch("ds", mirror);
        assertThat(entryLeftover).doesNotExist();
        assertThat(mirrorLeftover).doesNotExist();
        assertThat(unrelated).exists();
    }

    @Test
    void anInterruptedFetchKeepsTheEntryRemovesItsTempFileAndReleasesTheLock() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        DatasetProducer blocking = target -> {
            Files.writeString(target, "v" + calls.incrementAndGet());
            if (calls.get() == 2) {
                inside.countDown();
                new CountDownLatch(1).await(); // until interrupted
            }
        };
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of("ds", DatasetSource.producer("blocking", blocking), "data.txt"))
                .build();
        Path mirror = tmp.resolve("data.txt");
        cache.fetch("ds", mirror);
        AtomicReference<Boolean> flagAfter = new AtomicReference<>();
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        Thread refresh = new Thread(() -> {
            try {
                cache.fetch("ds", mirror, FetchPolicy.ALWAYS);
            } catch (RuntimeException e) {
                failure.set(e);
            } finally {
                flagAfter.set(Thread.currentThread().isInterrupted());
            }
        });
        refresh.start();
        assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
        refresh.interrupt();
        refresh.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(refresh.isAlive()).isFalse();
        assertThat(failure.get())
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("'ds'")
                .hasMessageContaining("producer 'blocking'")
                .hasMessageContaining("interrupted");
        assertThat(flagAfter.get()).isTrue();
        // the next fetch gets the lock, which proves the interrupted one released it
        assertThat(read(cache.fetch("ds", tmp.resolve("after.txt"), FetchPolicy.NEVER)))
                .isEqualTo("v1");
        assertThat(read(mirror)).isEqualTo("v1");
        assertThat(debris(tmp)).isEmpty();
    }

    @Test
    void aPublisherWithAnOlderFencingTokenRefusesToOverwrite() {
        CountingProducer producer = new CountingProducer();
        DatasetCache cache = cacheWith(producer);
        cache.fetch("ds");
        Path root = cache.lockVerdict().directory().getParent();
        EntryMetadata now = TestData.metadata(root, "ds", cache.entryPath("ds"));
        // a later holder (token far ahead) has recorded the entry; this process's next token is older
        TestData.writeMetadata(
                root,
                "ds",
                new EntryMetadata(
                        now.attempts(),
                        now.fenceProvider(),
                        now.fenceToken() + 1_000_000,
                        "someone-else",
                        now.published(),
                        now.identity(),
                        now.pending(),
                        ""));
        assertThatThrownBy(() -> cache.fetch("ds", FetchOptions.of(FetchPolicy.ALWAYS)))
                .isInstanceOf(CacheFencingException.class)
                .hasMessageContaining("'ds'")
                .hasMessageContaining(Long.toString(now.fenceToken() + 1_000_000));
        assertThat(producer.started.get()).isEqualTo(1);
        assertThat(read(cache.entryPath("ds"))).isEqualTo("v1");
    }

    @Test
    void anEqualFencingTokenFromAnotherHolderIsRefusedAndTheSameHolderIsNot() {
        EntryMetadata recorded = new EntryMetadata(
                3, "exclusive-create", 7, "holder-a", Optional.empty(), Optional.empty(), Optional.empty(), "");
        assertThat(recorded.fencesOut("exclusive-create", 7, "holder-b"))
                .as("equal token, other holder")
                .isTrue();
        assertThat(recorded.fencesOut("exclusive-create", 7, "holder-a"))
                .as("the same holder again")
                .isFalse();
        assertThat(recorded.fencesOut("exclusive-create", 6, "holder-a"))
                .as("older")
                .isTrue();
        assertThat(recorded.fencesOut("exclusive-create", 8, "holder-b"))
                .as("newer")
                .isFalse();

        // end to end: the next acquisition's token is recorded as if another holder had already used it
        CountingProducer producer = new CountingProducer();
        DatasetCache cache = cacheWith(producer);
        cache.fetch("ds");
        Path root = cache.lockVerdict().directory().getParent();
        EntryMetadata now = TestData.metadata(root, "ds", cache.entryPath("ds"));
        TestData.writeMetadata(
                root,
                "ds",
                new EntryMetadata(
                        now.attempts(),
                        now.fenceProvider(),
                        now.fenceToken() + 1, // what the next acquisition of the lock will carry
                        "a-broken-holder-that-got-the-same-token",
                        now.published(),
                        now.identity(),
                        now.pending(),
                        ""));
        assertThatThrownBy(() -> cache.fetch("ds", FetchOptions.of(FetchPolicy.ALWAYS)))
                .isInstanceOf(CacheFencingException.class);
        assertThat(producer.started.get()).isEqualTo(1);
    }

    @Test
    void fileSourcesAreCopiedWithProgress() throws IOException {
        Path source = tmp.resolve("source.bin");
        byte[] content = new byte[200_000];
        java.util.Arrays.fill(content, (byte) 7);
        Files.write(source, content);
        List<Long> progress = new ArrayList<>();
        AtomicReference<OptionalLong> total = new AtomicReference<>();
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of("file-ds", DatasetSource.file(source), "source.bin")
                        .withSha256(sha256(content))
                        .withSize(content.length))
                .build();
        Path got = cache.fetch(
                "file-ds", tmp.resolve("copy.bin"), cache.defaultOptions().withProgress((key, bytes, announced) -> {
                    progress.add(bytes);
                    total.set(announced);
                }));
        assertThat(Files.readAllBytes(got)).isEqualTo(content);
        assertThat(progress).isSorted().last().isEqualTo((long) content.length);
        assertThat(total.get()).hasValue(content.length);
        Optional<EntryInfo> info = cache.entry("file-ds");
        assertThat(info).hasValueSatisfying(e -> {
            assertThat(e.sha256()).isEqualTo(sha256(content));
            assertThat(e.size()).isEqualTo(content.length);
            assertThat(e.source()).isEqualTo(source.toUri().toString());
            assertThat(e.lockProvider()).isEqualTo(cache.lockVerdict().providerName());
        });
    }

    @Test
    void aLockHeldElsewhereTimesOutWithTheKeyAndTheLock() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of(
                        "ds",
                        DatasetSource.producer("slow", t -> {
                            inside.countDown();
                            assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
                            Files.writeString(t, "x");
                        }),
                        "data.txt"))
                .build();
        Future<Path> holder = pool.submit(() -> cache.fetch("ds"));
        assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> cache.fetch("ds", cache.defaultOptions().withLockTimeout(Duration.ofMillis(50))))
                .isInstanceOf(CacheException.class)
                .hasMessageContaining("'ds'")
                .hasMessageContaining("ds.lock");
        release.countDown();
        assertThat(read(holder.get(30, TimeUnit.SECONDS))).isEqualTo("x");
    }

    private static void clean(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
