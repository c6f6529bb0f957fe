package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Wall-clock jumps of an hour either way in the middle of a wait, made by libfaketime in child JVMs (a {@code
 * FAKETIME_TIMESTAMP_FILE} the test rewrites, {@code FAKETIME_DONT_FAKE_MONOTONIC=1}): timeouts end on time,
 * because deadlines are on the monotonic clock, and exclusive-create never judges a live holder stale, because
 * its lease is measured on the waiter's monotonic clock. Each jump is confirmed by the child's own wall clock
 * before the wait ends, so no test passes with a jump that did not happen.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClockJumpIT {

    static final long TIMEOUT_MILLIS = 4000;

    /** How late a timeout may end (a liveness bound for a loaded CI machine, far below the hour jumped). */
    static final long SLACK_MILLIS = 20_000;

    static final long HOUR_SECONDS = 3600;

    @TempDir
    Path dir;

    static final List<String> PROVIDERS = List.of("flock", "exclusive-create");

    /**
     * One waiter JVM per provider waits twice while the test holds the lock: its wall clock jumps to +1 h during
     * the first wait and to -1 h (two hours back) during the second.
     */
    @ParameterizedTest(name = "{0}")
    @FieldSource("PROVIDERS")
    void aTimedWaitEndsOnTimeWhateverTheWallClockDoes(String provider) throws Exception {
        FileLocks here = FileLocks.using(Tools.provider(provider));
        Path clock = dir.resolve("clock");
        Path lock = dir.resolve("jump.lock");
        try (LockHandle held = here.acquire(lock, Duration.ofSeconds(10));
                Scripted waiter = Scripted.start(faked(clock, provider, Map.of()))) {
            for (long jumpSeconds : List.of(HOUR_SECONDS, -HOUR_SECONDS)) {
                assertThat(waiter.ask("acquire-async " + lock + " EXCLUSIVE " + TIMEOUT_MILLIS))
                        .isEqualTo("STARTED");
                long start = System.nanoTime();
                waiter.awaitEvent("WAITING");
                jump(waiter, clock, jumpSeconds);
                String answer = waiter.awaitEvent("ASYNC ");
                long seen = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                System.out.printf(
                        "%s: wall clock jumped to %+d s during a %d ms wait -> %s (%d ms seen from the test)%n",
                        provider, jumpSeconds, TIMEOUT_MILLIS, answer, seen);
                assertThat(answer).startsWith("ASYNC TIMEOUT ");
                long waited = Long.parseLong(answer.split(" ")[2]);
                assertThat(waited).isBetween(TIMEOUT_MILLIS, TIMEOUT_MILLIS + SLACK_MILLIS);
            }
            assertThat(held.isOpen()).isTrue();
            assertThat(waiter.exit()).isZero();
        }
    }

    @Test
    void exclusiveCreateNeverJudgesALiveHolderStaleAcrossJumps() throws Exception {
        Tools.provider("exclusive-create");
        Map<String, String> lease = Map.of("lockcache.exclusive-create.lease", "PT1S");
        Path lock = dir.resolve("live.lock");
        Path holderClock = dir.resolve("holder-clock");
        Path waiterClock = dir.resolve("waiter-clock");
        long waitMillis = 5000; // five leases
        try (Scripted holder = Scripted.start(faked(holderClock, "exclusive-create", lease));
                Scripted waiter = Scripted.start(faked(waiterClock, "exclusive-create", lease))) {
            assertThat(holder.ask("acquire " + lock + " EXCLUSIVE 10000")).startsWith("ACQUIRED ");
            jump(holder, holderClock, -HOUR_SECONDS);
            assertThat(waiter.ask("acquire-async " + lock + " EXCLUSIVE " + waitMillis))
                    .isEqualTo("STARTED");
            waiter.awaitEvent("WAITING");
            jump(waiter, waiterClock, HOUR_SECONDS);
            String answer = waiter.awaitEvent("ASYNC ");
            System.out.printf(
                    "exclusive-create: holder's wall clock -1 h, waiter's +1 h during a %d ms wait (lease 1 s) -> %s;"
                            + " holder told of a loss: %s%n",
                    waitMillis, answer, holder.eventsSoFar("LOST"));
            assertThat(answer).as("the live holder must not be broken").startsWith("ASYNC TIMEOUT ");
            assertThat(holder.ask("work " + dir.resolve("inside"))).isEqualTo("IN");
            assertThat(holder.eventsSoFar("LOST")).isEmpty();
            assertThat(holder.ask("release")).isEqualTo("RELEASED");
            assertThat(holder.exit()).isZero();
            assertThat(waiter.exit()).isZero();
        }
    }

    /** A FaultChild whose wall clock is the real one plus the offset written in {@code clock}. */
    static List<String> faked(Path clock, String provider, Map<String, String> properties) throws Exception {
        Path library = Tools.faketimeLibrary();
        Files.writeString(clock, "+0\n");
        List<String> command = new ArrayList<>(List.of(
                "env",
                "LD_PRELOAD=" + library,
                "FAKETIME_TIMESTAMP_FILE=" + clock,
                // re-read at most once a second: reading it on every clock call (FAKETIME_NO_CACHE) makes a JVM crawl
                "FAKETIME_CACHE_DURATION=1",
                "FAKETIME_DONT_FAKE_MONOTONIC=1"));
        command.addAll(Launch.faultChild(provider, properties));
        return command;
    }

    /**
     * Moves {@code child}'s wall clock by {@code seconds} and returns once the child's own clock shows it (asking
     * it again and again: libfaketime re-reads the file within a second), failing if its wait ended first.
     */
    static void jump(Scripted child, Path clock, long seconds) throws Exception {
        Files.writeString(clock, (seconds >= 0 ? "+" : "") + seconds + "\n");
        for (int asked = 1; ; asked++) {
            long expected = System.currentTimeMillis() + seconds * 1000;
            String answer = child.ask("clock");
            long childWall = Long.parseLong(answer.split(" ")[1]);
            if (Math.abs(childWall - expected) < HOUR_SECONDS * 1000 / 4) {
                break;
            }
            assertThat(asked)
                    .as("the child's clock never moved by %d s: %s", seconds, answer)
                    .isLessThan(100_000);
        }
        assertThat(child.eventsSoFar("ASYNC"))
                .as("the jump came while the child waited")
                .isEmpty();
    }
}
