package dev.lockcache.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
}
