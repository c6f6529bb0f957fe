package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backoff pauses stay within their bounds, and a timed wait ends at its deadline, never a step later. */
class WaitLoopPropertiesTest {

    @TempDir
    Path dir;

    @Test
    void backoffPausesStayWithinTheirCeilingAndTheCap() {
        qt().forAll(
                        longs().between(1, 10_000_000),
                        longs().between(0, 1_000_000_000),
                        integers().between(0, 200),
                        longs().all())
                .checkAssert((initial, extra, attempt, seed) -> {
                    Backoff backoff = Backoff.of(Duration.ofNanos(initial), Duration.ofNanos(initial + extra));
                    long ceiling = backoff.ceilingNanos(attempt);
                    long delay = backoff.delayNanos(attempt, new SplittableRandom(seed));
                    assertThat(ceiling).isBetween(Math.min(initial, initial + extra), initial + extra);
                    assertThat(delay).isBetween(0L, ceiling);
                    assertThat(backoff.ceilingNanos(attempt + 1)).isGreaterThanOrEqualTo(ceiling);
                });
    }

    @Test
    void aTimedWaitEndsAtItsDeadlineAndNotAStepLater() {
        qt().forAll(longs().between(0, 5_000_000_000L), longs().between(1, 1_000_000), longs().between(0, 100_000_000))
                .checkAssert((timeoutNanos, initial, extra) -> {
                    AtomicLong now = new AtomicLong(1_000);
                    InMemoryProvider provider = new InMemoryProvider(now::addAndGet);
                    FileLocks locks = FileLocks.using(provider).withTicker(now::get);
                    Path lock = dir.resolve("held-elsewhere.lock");
                    provider.holdElsewhere(lock.toAbsolutePath());
                    Backoff backoff = Backoff.of(Duration.ofNanos(initial), Duration.ofNanos(initial + extra));
                    Duration timeout = Duration.ofNanos(timeoutNanos);
                    long start = now.get();
                    assertThatThrownBy(() -> locks.acquire(
                                    lock, LockOptions.exclusive(timeout).withBackoff(backoff)))
                            .isInstanceOfSatisfying(
                                    LockTimeoutException.class,
                                    e -> assertThat(e.waited()).isEqualTo(timeout));
                    // pauses are cut to the time left, so the wait ends exactly at the deadline
                    assertThat(now.get() - start).isEqualTo(timeoutNanos);
                    assertThat(provider.heldCount()).isZero();
                });
        assertThat(FileLocks.pathsInUse()).isZero();
    }

    @Test
    void aWaitEndsWithTheLockAsSoonAsItIsFree() throws Exception {
        AtomicLong now = new AtomicLong();
        Path lock = dir.resolve("freed.lock").toAbsolutePath();
        AtomicLong polls = new AtomicLong();
        InMemoryProvider[] self = new InMemoryProvider[1];
        self[0] = new InMemoryProvider(nanos -> {
            now.addAndGet(nanos);
            if (polls.incrementAndGet() == 5) {
                self[0].releaseElsewhere(lock);
            }
        });
        self[0].holdElsewhere(lock);
        FileLocks locks = FileLocks.using(self[0]).withTicker(now::get);
        try (LockHandle handle = locks.acquire(lock, LockOptions.exclusive(Duration.ofHours(1)))) {
            assertThat(handle.isOpen()).isTrue();
        }
        assertThat(polls.get()).isEqualTo(5);
    }
}
