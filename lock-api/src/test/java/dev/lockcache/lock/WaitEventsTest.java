package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A waiting acquisition tells its listener and JFR ({@code dev.lockcache.LockWaiting}) how long it has waited,
 * with the holder's record: with a listener on the listener's schedule, without one on the default schedule
 * whenever a recording enables the event.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class WaitEventsTest {

    @TempDir
    Path dir;

    private final InMemoryProvider provider = new InMemoryProvider(LockSupport::parkNanos);
    private final FileLocks locks = FileLocks.using(provider);

    /** Waits for {@code lock} in another thread (blocked behind this thread's hold) with {@code options}. */
    private Thread waiter(Path lock, LockOptions options) {
        Thread thread = new Thread(() -> {
            try (LockHandle ignored = locks.acquire(lock, options)) {
                // got it after the holder let go
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        thread.start();
        return thread;
    }

    @Test
    void theListenerAndJfrAreToldWhileAnotherThreadHolds() throws Exception {
        Path lock = dir.resolve("l.lock");
        CountDownLatch told = new CountDownLatch(2);
        List<Duration> waited = new CopyOnWriteArrayList<>();
        List<RecordedEvent> events = new CopyOnWriteArrayList<>();
        CountDownLatch recorded = new CountDownLatch(1);
        try (RecordingStream stream = new RecordingStream()) {
            stream.enable("dev.lockcache.LockWaiting");
            stream.onEvent("dev.lockcache.LockWaiting", e -> {
                events.add(e);
                recorded.countDown();
            });
            stream.startAsync();
            Thread thread;
            try (LockHandle held = locks.acquire(lock, LockOptions.exclusive())) {
                thread = waiter(
                        lock,
                        LockOptions.exclusive()
                                .waitForever()
                                .withWaitNotices(new WaitNotices(
                                        Duration.ofMillis(1), Duration.ofMillis(1), (path, w, holder) -> {
                                            waited.add(w);
                                            told.countDown();
                                        })));
                assertThat(told.await(1, TimeUnit.MINUTES)).isTrue();
                assertThat(recorded.await(1, TimeUnit.MINUTES)).isTrue();
            }
            thread.join();
        }
        assertThat(waited).allSatisfy(w -> assertThat(w).isPositive());
        assertThat(events.get(0).getString("path")).endsWith("l.lock");
        assertThat(events.get(0).getString("provider")).isEqualTo("in-memory");
        assertThat(events.get(0).getString("mode")).isEqualTo("EXCLUSIVE");
        assertThat(events.get(0).getLong("waited")).isPositive();
        assertThat(events.get(0).getString("holder")).isNotBlank();
    }

    @Test
    void aRecordingAloneGetsTheEventOnTheDefaultSchedule() throws Exception {
        Path lock = dir.resolve("r.lock");
        CountDownLatch recorded = new CountDownLatch(1);
        try (RecordingStream stream = new RecordingStream()) {
            stream.enable("dev.lockcache.LockWaiting");
            stream.onEvent("dev.lockcache.LockWaiting", e -> recorded.countDown());
            stream.startAsync();
            Thread thread;
            try (LockHandle held = locks.acquire(lock, LockOptions.exclusive())) {
                thread = waiter(lock, LockOptions.exclusive().waitForever()); // no listener
                assertThat(recorded.await(1, TimeUnit.MINUTES))
                        .as("a LockWaiting event after %s", WaitNotices.DEFAULT_FIRST)
                        .isTrue();
            }
            thread.join();
        }
    }
}
