package dev.lockcache.lock.exclusive;

import static dev.lockcache.lock.exclusive.ExclusiveCreateLockProviderTest.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.HeldLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The windows between the steps of an acquisition and of a break, held open deterministically with the
 * provider's pause points (latches, never sleeps): a breaker stalled past a lease, a holder paused between
 * publishing and recording its generation, and a holder broken while it holds.
 */
@Timeout(120)
class RaceWindowsTest {

    private static final Duration LEASE = Duration.ofSeconds(10);
    private static final long HANDSHAKE_SECONDS = 60;

    @TempDir
    Path dir;

    private final FakeTicker ticker = new FakeTicker();
    private final ExclusiveCreateLockProvider provider =
            new ExclusiveCreateLockProvider().withLease(LEASE).withTicker(ticker);

    @Test
    void aBreakerStalledPastALeaseWhileAFreshHolderGetsInDoesNothingAndNeverMakesTwoHolders() throws Exception {
        Path lock = dir.resolve("stalled.lock");
        HandMadeRecords.write(lock, HandMadeRecords.ofPid(HandMadeRecords.deadPid(), 1_000, "dead0"));
        CountDownLatch stalled = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        // A stalled breaker that renamed the fresh record away would open the path to a third process.
        List<String> thirdHolders = new CopyOnWriteArrayList<>();
        ExclusiveCreateLockProvider third = new ExclusiveCreateLockProvider().withLease(LEASE);
        LockDirectory.Pause whileMovedAway = (step, name) -> {
            if (step.equals("rename") && name.equals("stalled.lock") && resume.getCount() == 0) {
                thirdHolders.add("the stalled breaker renamed the lock path");
            }
        };
        ExclusiveCreateLockProvider stalling = provider.withSeams(
                        provider.seams().withDirectoryPause(whileMovedAway).withPublishPause(lockPath -> {}))
                .withBreakHook(new LockBreaker.Hook() {
                    @Override
                    public void beforeBreak(Path lockPath) {}

                    @Override
                    public void beforeRename(Path lockPath) throws IOException {
                        stalled.countDown();
                        await(resume);
                    }
                });
        CompletableFuture<Optional<HeldLock>> breaker = CompletableFuture.supplyAsync(() -> {
            try {
                return stalling.tryLock(request(lock));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        assertThat(stalled.await(HANDSHAKE_SECONDS, TimeUnit.SECONDS)).isTrue();

        // Another process's breaker (own judge, own clock) finds the stalled breaker's guard unchanged for a
        // lease, breaks it, breaks the dead record and takes the lock: the fresh holder.
        FakeTicker otherClock = new FakeTicker();
        ExclusiveCreateLockProvider other =
                new ExclusiveCreateLockProvider().withLease(LEASE).withTicker(otherClock);
        assertThat(other.tryLock(request(lock))).isEmpty(); // guard seen for the first time
        otherClock.advance(LEASE);
        Optional<HeldLock> fresh = other.tryLock(request(lock)); // guard broken by age
        for (int i = 0; fresh.isEmpty() && i < 3; i++) {
            fresh = other.tryLock(request(lock)); // breaks the dead record, publishes
        }
        assertThat(fresh).as("the fresh holder got in").isPresent();
        String freshToken = token(lock);

        resume.countDown();
        Optional<HeldLock> late = breaker.get(HANDSHAKE_SECONDS, TimeUnit.SECONDS);
        assertThat(late)
                .as("the stalled breaker must not hold beside the fresh holder")
                .isEmpty();
        assertThat(thirdHolders)
                .as("a stalled breaker never moves a fresh holder's record")
                .isEmpty();
        assertThat(third.tryLock(request(lock))).isEmpty();
        assertThat(token(lock)).isEqualTo(freshToken);
        assertThat(fresh.get().lost()).isEmpty();
        // and nobody else gets in while the fresh holder holds (its process is alive, it is not stale)
        assertThat(stalling.tryLock(request(lock))).isEmpty();
        assertThat(provider.tryLock(request(lock))).isEmpty();
        other.release(fresh.get());
        assertThat(debris()).isEmpty();
    }

    @Test
    void aHolderPausedBetweenPublishingAndRecordingItsGenerationAndBrokenNeverSharesItsToken() throws Exception {
        Path lock = dir.resolve("fenced.lock");
        provider.release(provider.tryLock(request(lock)).orElseThrow()); // generation 1 issued
        CountDownLatch published = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        ExclusiveCreateLockProvider pausing =
                provider.withSeams(provider.seams().withPublishPause(lockPath -> {
                    published.countDown();
                    await(resume);
                }));
        CompletableFuture<Optional<HeldLock>> paused = CompletableFuture.supplyAsync(() -> {
            try {
                return pausing.tryLock(request(lock));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        assertThat(published.await(HANDSHAKE_SECONDS, TimeUnit.SECONDS)).isTrue();
        long pausedGeneration = generationInRecord(lock);

        // its record stands still for a lease on another process's clock: broken, and the lock taken
        FakeTicker otherClock = new FakeTicker();
        ExclusiveCreateLockProvider breaker =
                new ExclusiveCreateLockProvider().withLease(LEASE).withTicker(otherClock);
        assertThat(breaker.tryLock(request(lock))).isEmpty();
        otherClock.advance(LEASE);
        HeldLock winner = breaker.tryLock(request(lock)).orElseThrow();

        resume.countDown();
        Optional<HeldLock> late = paused.get(HANDSHAKE_SECONDS, TimeUnit.SECONDS);
        List<Long> tokens = new CopyOnWriteArrayList<>();
        tokens.add(winner.fencingToken());
        late.ifPresent(held -> tokens.add(held.fencingToken()));
        assertThat(tokens).doesNotHaveDuplicates();
        assertThat(late)
                .as("the paused holder was broken before its token was issued")
                .isEmpty();
        assertThat(pausedGeneration).isEqualTo(2);
        assertThat(winner.fencingToken()).isGreaterThanOrEqualTo(2);
        assertThat(token(lock)).isEqualTo(((ExclusiveHold) winner).token()); // the late one moved nothing
        breaker.release(winner);
        HeldLock next = provider.tryLock(request(lock)).orElseThrow();
        assertThat(next.fencingToken()).isGreaterThan(winner.fencingToken());
        provider.release(next);
    }

    @Test
    void aHolderWhoseLockIsBrokenWhileItHoldsIsToldByItsListenerBeforeItReleases() throws Exception {
        ExclusiveCreateLockProvider beating = new ExclusiveCreateLockProvider()
                .withLease(Duration.ofSeconds(30))
                .withHeartbeatPeriod(Duration.ofMillis(20));
        Path lock = dir.resolve("lost.lock");
        HeldLock held = beating.tryLock(request(lock)).orElseThrow();
        AtomicReference<String> told = new AtomicReference<>();
        CountDownLatch lost = new CountDownLatch(1);
        held.onLost(reason -> {
            told.set(reason);
            lost.countDown();
        });
        assertThat(held.lost()).isEmpty();

        // what a breaker does: the record is renamed away; then another holder takes the free path
        Files.move(lock, dir.resolve("moved-away"), StandardCopyOption.ATOMIC_MOVE);
        HeldLock other =
                new ExclusiveCreateLockProvider().tryLock(request(lock)).orElseThrow();

        assertThat(lost.await(HANDSHAKE_SECONDS, TimeUnit.SECONDS))
                .as("the heartbeat tells the listener while the holder still holds")
                .isTrue();
        assertThat(told.get()).contains(lock.toString());
        assertThat(held.lost()).isPresent();
        assertThatThrownBy(() -> beating.release(held)).isInstanceOf(LockLostException.class);
        assertThat(token(lock)).isEqualTo(((ExclusiveHold) other).token()); // the release moved nothing
        new ExclusiveCreateLockProvider().release(other);
    }

    @Test
    void aHolderThatKeepsItsLockIsNeverToldItLostIt() throws Exception {
        ExclusiveCreateLockProvider beating = new ExclusiveCreateLockProvider()
                .withLease(Duration.ofSeconds(30))
                .withHeartbeatPeriod(Duration.ofMillis(20));
        Path lock = dir.resolve("kept.lock");
        HeldLock held = beating.tryLock(request(lock)).orElseThrow();
        List<String> told = new CopyOnWriteArrayList<>();
        held.onLost(told::add);
        long start = heartbeat(lock);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANDSHAKE_SECONDS);
        while (heartbeat(lock) < start + 3 && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // polls an effect (three beats, each with its check), orders nothing
        }
        assertThat(heartbeat(lock)).isGreaterThanOrEqualTo(start + 3);
        ((ExclusiveHold) held).checkStillHeld();
        assertThat(told).isEmpty();
        assertThat(held.lost()).isEmpty();
        beating.release(held);
    }

    private static long heartbeat(Path lock) {
        return ((LockOwner.Known) new ExclusiveCreateLockProvider().readOwner(lock))
                .record()
                .heartbeat();
    }

    private static long generationInRecord(Path lock) {
        LockOwner owner = new ExclusiveCreateLockProvider().readOwner(lock);
        return ((LockOwner.Known) owner).record().generation();
    }

    private static String token(Path lock) {
        OwnerRecord record = ((LockOwner.Known) new ExclusiveCreateLockProvider().readOwner(lock)).record();
        return record.token();
    }

    private static void await(CountDownLatch latch) throws IOException {
        try {
            if (!latch.await(HANDSHAKE_SECONDS, TimeUnit.SECONDS)) {
                throw new IOException("the test never resumed this step");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private List<String> debris() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(name -> name.startsWith(".") || name.endsWith(".break"))
                    .toList();
        }
    }
}
