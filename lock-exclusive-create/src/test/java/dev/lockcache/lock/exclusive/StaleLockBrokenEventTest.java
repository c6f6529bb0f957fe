package dev.lockcache.lock.exclusive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.testkit.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Breaking the lock of a killed holder is recorded as a dev.lockcache.StaleLockBroken event. */
class StaleLockBrokenEventTest {

    @TempDir
    Path dir;

    @Test
    void breakingADeadHoldersLockIsRecorded() throws Exception {
        Path lock = dir.resolve("dead.lock");
        try (ChildJvm holder = ChildJvm.lockChild("exclusive-create", "hold", lock.toString(), "EXCLUSIVE")) {
            holder.expect("HELD");
            holder.kill();
        }
        Path file = dir.resolve("events.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("dev.lockcache.StaleLockBroken").withThreshold(Duration.ZERO);
            recording.start();
            FileLocks locks = FileLocks.using(new ExclusiveCreateLockProvider());
            try (LockHandle ignored = locks.acquire(lock, LockOptions.exclusive(Duration.ofMinutes(1)))) {
                // the dead holder's lock was broken on the way in
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        assertThat(events)
                .filteredOn(e -> e.getEventType().getName().equals("dev.lockcache.StaleLockBroken"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.getString("path")).endsWith("dead.lock");
                    assertThat(e.getString("previousOwner")).contains("pid");
                    assertThat(e.getString("proof")).isNotBlank();
                });
    }
}
