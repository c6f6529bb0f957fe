package dev.lockcache.lock.exclusive;

import static dev.lockcache.lock.exclusive.ExclusiveCreateLockProviderTest.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.HeldLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class StaleHolderRecoveryTest {

    private static final Duration LEASE = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final FakeTicker ticker = new FakeTicker();
    private final ExclusiveCreateLockProvider provider =
            new ExclusiveCreateLockProvider().withLease(LEASE).withTicker(ticker);

    @Test
    void aRecordOfADeadProcessOnThisHostIsBrokenAtOnce() throws Exception {
        Path lock = dir.resolve("dead.lock");
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "dead0"));
        HeldLock held = provider.tryLock(request(lock)).orElseThrow();
        assertThat(((LockOwner.Known) provider.readOwner(lock)).record().isThisProcess())
                .isTrue();
        provider.release(held);
        assertThat(debris()).isEmpty();
    }

    @Test
    void aLivePidWithAnotherStartTimeIsARecycledPidAndIsBroken() throws Exception {
        Path lock = dir.resolve("recycled.lock");
        long realStart = OwnerRecord.currentProcessStartMillis();
        assertThat(realStart).as("this platform reports process start times").isPositive();
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(OwnerRecord.currentPid(), realStart - 60_000, "old0"));
        provider.release(provider.tryLock(request(lock)).orElseThrow());
    }

    @Test
    void aLiveProcessWithTheRightStartTimeIsNotBrokenWithinTheLease() throws Exception {
        Path lock = dir.resolve("alive.lock");
        HandMadeRecords.write(
                lock,
                HandMadeRecords.ofPid(OwnerRecord.currentPid(), OwnerRecord.currentProcessStartMillis(), "live0"));
        assertThat(provider.tryLock(request(lock))).isEmpty();
        ticker.advance(LEASE.minusMillis(1));
        assertThat(provider.tryLock(request(lock))).isEmpty();
        assertThat(token(lock)).isEqualTo("live0");
    }

    @Test
    void aForeignHostWhoseHeartbeatStandsStillIsBrokenOnlyAfterTheLeaseOnOurClock() throws Exception {
        Path lock = dir.resolve("foreign.lock");
        HandMadeRecords.write(lock, HandMadeRecords.onAnotherHost("far0"));
        assertThat(provider.tryLock(request(lock))).isEmpty();
        ticker.advance(LEASE.minusNanos(1));
        assertThat(provider.tryLock(request(lock))).isEmpty();
        assertThat(token(lock)).isEqualTo("far0");
        ticker.advance(Duration.ofNanos(1));
        HeldLock held = provider.tryLock(request(lock)).orElseThrow();
        provider.release(held);
    }

    @Test
    void aForeignHostWhoseHeartbeatMovesIsNeverBroken() throws Exception {
        Path lock = dir.resolve("beating.lock");
        OwnerRecord record = HandMadeRecords.onAnotherHost("far1");
        HandMadeRecords.write(lock, record);
        qt().withExamples(30).forAll(integers().between(1, 3)).checkAssert(leases -> {
            try {
                long beat =
                        ((LockOwner.Known) provider.readOwner(lock)).record().heartbeat();
                assertThat(provider.tryLock(request(lock))).isEmpty();
                HandMadeRecords.beat(lock, record, beat + 1);
                ticker.advance(LEASE.multipliedBy(leases));
                assertThat(provider.tryLock(request(lock))).isEmpty();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        assertThat(token(lock)).isEqualTo("far1");
    }

    @Test
    void anEmptyRecordIsAHolderWithoutHeartbeatYetAndIsBrokenOnlyAfterAFullLease() throws Exception {
        Path lock = dir.resolve("empty.lock");
        Files.createFile(lock); // what a full disk leaves
        assertThat(provider.readOwner(lock)).isInstanceOf(LockOwner.Unreadable.class);
        assertThat(provider.tryLock(request(lock))).isEmpty();
        ticker.advance(LEASE.minusMillis(1));
        assertThat(provider.tryLock(request(lock))).isEmpty();
        assertThat(Files.size(lock)).isZero();
        ticker.advance(Duration.ofMillis(1));
        provider.release(provider.tryLock(request(lock)).orElseThrow());
    }

    @Test
    void aRecordThatGetsWrittenRestartsTheLease() throws Exception {
        Path lock = dir.resolve("late.lock");
        Files.createFile(lock);
        assertThat(provider.tryLock(request(lock))).isEmpty();
        ticker.advance(LEASE.minusMillis(1));
        Files.write(lock, HandMadeRecords.onAnotherHost("late0").encode().bytes()); // the holder's write lands
        ticker.advance(Duration.ofMillis(1));
        assertThat(provider.tryLock(request(lock))).isEmpty();
        assertThat(token(lock)).isEqualTo("late0");
    }

    @Test
    void strictModeNeverBreaksAndTheTimeoutNamesTheHolder() throws Exception {
        Path lock = dir.resolve("strict.lock");
        long dead = HandMadeRecords.deadPid();
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(dead, 1_000, "strict0"));
        ExclusiveCreateLockProvider strict = provider.strict(true);
        assertThat(strict.tryLock(request(lock))).isEmpty();
        ticker.advance(LEASE.multipliedBy(10));
        assertThat(strict.tryLock(request(lock))).isEmpty();
        assertThatThrownBy(() -> FileLocks.using(strict).acquire(lock, Duration.ofMillis(200)))
                .isInstanceOf(LockTimeoutException.class)
                .hasMessageContaining("pid " + dead)
                .hasMessageContaining(OwnerRecord.currentHost());
        assertThat(token(lock)).isEqualTo("strict0");
    }

    @Test
    void ofManyConcurrentBreakersExactlyOneWins() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger round = new AtomicInteger();
        try {
            qt().withExamples(12).forAll(integers().between(2, 8)).checkAssert(breakers -> {
                try {
                    Path lock = dir.resolve("race" + round.incrementAndGet() + ".lock");
                    HandMadeRecords.write(lock, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "race0"));
                    ExclusiveCreateLockProvider shared = new ExclusiveCreateLockProvider().withLease(LEASE);
                    CyclicBarrier start = new CyclicBarrier(breakers);
                    List<Future<Optional<HeldLock>>> attempts = new ArrayList<>();
                    for (int i = 0; i < breakers; i++) {
                        // each breaker its own provider instance, as separate processes would be
                        ExclusiveCreateLockProvider mine = i % 2 == 0 ? shared : shared.withLease(LEASE);
                        attempts.add(pool.submit(() -> {
                            start.await(30, TimeUnit.SECONDS);
                            return mine.tryLock(request(lock));
                        }));
                    }
                    List<HeldLock> winners = new ArrayList<>();
                    for (Future<Optional<HeldLock>> attempt : attempts) {
                        attempt.get(60, TimeUnit.SECONDS).ifPresent(winners::add);
                    }
                    assertThat(winners).hasSize(1);
                    assertThat(token(lock)).isNotEqualTo("race0");
                    shared.release(winners.get(0));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
        } finally {
            pool.shutdownNow();
        }
        assertThat(debris()).isEmpty();
    }

    @Test
    void aBreakerNeverRemovesARecordWhoseHeartbeatMovedAfterItWasJudged() throws Exception {
        Path lock = dir.resolve("fresh.lock");
        OwnerRecord record = HandMadeRecords.onAnotherHost("fresh0");
        HandMadeRecords.write(lock, record);
        AtomicInteger hooks = new AtomicInteger();
        ExclusiveCreateLockProvider racing = provider.withBreakHook(path -> {
            hooks.incrementAndGet();
            HandMadeRecords.beat(path, record, 1); // the holder wakes up between judgement and break
        });
        assertThat(racing.tryLock(request(lock))).isEmpty();
        ticker.advance(LEASE);
        assertThat(racing.tryLock(request(lock))).isEmpty();
        assertThat(hooks).hasValue(1);
        assertThat(((LockOwner.Known) provider.readOwner(lock)).record().heartbeat())
                .isEqualTo(1);
        assertThat(debris()).isEmpty();
    }

    @Test
    void aBreakerNeverRemovesANewHoldersRecord() throws Exception {
        Path lock = dir.resolve("replaced.lock");
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "gone0"));
        ExclusiveCreateLockProvider racing = provider.withBreakHook(path -> {
            // the stale record is broken by someone else and a new holder publishes
            Files.delete(path);
            HandMadeRecords.write(path, HandMadeRecords.onAnotherHost("new0"));
        });
        assertThat(racing.tryLock(request(lock))).isEmpty();
        assertThat(token(lock)).isEqualTo("new0");
    }

    @Test
    void aGuardLeftByADeadBreakerIsRemovedOnlyAfterALease() throws Exception {
        Path lock = dir.resolve("guarded.lock");
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "dead1"));
        Files.writeString(LockBreaker.guardFor(lock), "lockcache-break-guard\ntoken=abandoned\n");
        assertThat(provider.tryLock(request(lock))).isEmpty();
        ticker.advance(LEASE.minusMillis(1));
        assertThat(provider.tryLock(request(lock))).isEmpty();
        assertThat(token(lock)).isEqualTo("dead1");
        ticker.advance(Duration.ofMillis(1));
        Optional<HeldLock> held = provider.tryLock(request(lock)); // removes the guard
        if (held.isEmpty()) {
            held = provider.tryLock(request(lock)); // breaks the lock
        }
        assertThat(held).isPresent();
        provider.release(held.get());
        assertThat(debris()).isEmpty();
    }

    @Test
    void aWaiterThroughFileLocksBreaksADeadHolderAndAcquires() throws Exception {
        Path lock = dir.resolve("waiter.lock");
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "dead2"));
        try (LockHandle handle = FileLocks.using(provider).acquire(lock, Duration.ofSeconds(30))) {
            assertThat(((LockOwner.Known) provider.readOwner(lock)).record().isThisProcess())
                    .isTrue();
            assertThat(handle.fencingToken()).isPositive();
        }
    }

    private static String token(Path lock) {
        return ((LockOwner.Known) new ExclusiveCreateLockProvider().readOwner(lock))
                .record()
                .token();
    }

    /** Files other than locks and generation files: temporary records, renamed records, guards. */
    private List<String> debris() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(name -> name.startsWith(".") || name.endsWith(".break"))
                    .toList();
        }
    }
}
