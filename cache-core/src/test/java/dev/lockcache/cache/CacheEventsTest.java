package dev.lockcache.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockcache.lock.FileLocks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JFR recording sees the strategy verdict and one fetch event per call, with how each ended. */
class CacheEventsTest {

    @TempDir
    Path tmp;

    @Test
    void aRecordingSeesVerdictAndFetches() throws Exception {
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of(
                        "recorded", DatasetSource.producer("writes", t -> Files.writeString(t, "12345")), "r.txt"))
                .register(DatasetSpec.of(
                        "broken",
                        DatasetSource.producer("fails", t -> {
                            throw new java.io.IOException("source is down");
                        }),
                        "b.txt"))
                .build();
        Path file = tmp.resolve("events.jfr");
        try (Recording recording = new Recording()) {
            for (String name : List.of("dev.lockcache.Fetch", "dev.lockcache.StrategyVerdict")) {
                recording.enable(name).withThreshold(Duration.ZERO);
            }
            recording.start();
            cache.fetch("recorded", tmp.resolve("a/r.txt"));
            cache.fetch("recorded", tmp.resolve("a/r.txt"));
            assertThatThrownBy(() -> cache.fetch("broken")).isInstanceOf(CacheException.class);
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        assertThat(events)
                .filteredOn(e -> e.getEventType().getName().equals("dev.lockcache.Fetch"))
                .extracting(e -> e.getString("key") + " " + e.getString("outcome") + " " + e.getLong("bytes"))
                .containsExactly("recorded locked 5", "recorded hit 5", "broken failed: CacheFetchException 0");
        assertThat(events)
                .filteredOn(e -> e.getEventType().getName().equals("dev.lockcache.StrategyVerdict"))
                .singleElement()
                .satisfies(e -> assertThat(e.getString("provider"))
                        .isEqualTo(cache.lockVerdict().providerName()));
    }

    /**
     * Callers queued behind one download pass through the lock and answer from the published entry without the
     * locked path (so they check it in parallel): one fetch event says "locked", the queued ones "hit".
     */
    @Test
    void callersQueuedBehindADownloadAnswerWithoutTheLockedPath() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger produced = new AtomicInteger();
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of(
                        "queued",
                        DatasetSource.producer("gated", t -> {
                            produced.incrementAndGet();
                            inside.countDown();
                            assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
                            Files.writeString(t, "shared");
                        }),
                        "q.txt"))
                .build();
        Path file = tmp.resolve("queued.jfr");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (Recording recording = new Recording()) {
            recording.enable("dev.lockcache.Fetch").withThreshold(Duration.ZERO);
            recording.start();
            List<Future<Path>> calls = new ArrayList<>();
            calls.add(pool.submit(() -> cache.fetch("queued")));
            assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 3; i++) {
                calls.add(pool.submit(() -> cache.fetch("queued")));
            }
            Path lockFile = new EntryLayout(cache.root().toRealPath()).lockFile("queued");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (FileLocks.waiters(lockFile) < 3) {
                assertThat(System.nanoTime())
                        .as("the three callers never queued")
                        .isLessThan(deadline);
                Thread.onSpinWait();
            }
            release.countDown();
            for (Future<Path> call : calls) {
                assertThat(Files.readString(call.get(60, TimeUnit.SECONDS))).isEqualTo("shared");
            }
            recording.stop();
            recording.dump(file);
        } finally {
            pool.shutdownNow();
        }
        assertThat(produced.get()).isEqualTo(1);
        assertThat(RecordingFile.readAllEvents(file))
                .filteredOn(e -> e.getEventType().getName().equals("dev.lockcache.Fetch"))
                .extracting(e -> e.getString("outcome"))
                .containsExactlyInAnyOrder("locked", "hit", "hit", "hit");
    }
}
