package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JFR recording with lockcache's events enabled finds one acquired and one released event per handle. */
class LockEventsTest {

    @TempDir
    Path dir;

    @Test
    void aRecordingSeesAcquireAndRelease() throws Exception {
        FileLocks locks = FileLocks.using(new CreateNewTestProvider());
        Path lock = dir.resolve("jfr.lock");
        Path file = dir.resolve("events.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("dev.lockcache.LockAcquired").withThreshold(Duration.ZERO);
            recording.enable("dev.lockcache.LockReleased").withThreshold(Duration.ZERO);
            recording.start();
            try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive())) {
                // held
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        assertThat(events)
                .filteredOn(e -> e.getEventType().getName().equals("dev.lockcache.LockAcquired"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.getString("path")).endsWith("jfr.lock");
                    assertThat(e.getString("provider")).isEqualTo(CreateNewTestProvider.NAME);
                    assertThat(e.getString("mode")).isEqualTo("EXCLUSIVE");
                    assertThat(e.getLong("fencingToken")).isPositive();
                });
        assertThat(events)
                .filteredOn(e -> e.getEventType().getName().equals("dev.lockcache.LockReleased"))
                .singleElement()
                .satisfies(e -> assertThat(e.getLong("held")).isNotNegative());
    }
}
