package dev.lockcache.lock.exclusive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class ExclusiveCreateLockProviderTest {

    @TempDir
    Path dir;

    private final ExclusiveCreateLockProvider provider = new ExclusiveCreateLockProvider();

    @Test
    void isFoundByNameThroughTheServiceLoaderAndSaysWhatItCanDo() {
        assertThat(LockProviders.named("exclusive-create")).isInstanceOf(ExclusiveCreateLockProvider.class);
        assertThat(provider.features())
                .contains(LockFeature.CROSS_PROCESS, LockFeature.STALE_RECOVERY)
                .doesNotContain(LockFeature.SHARED);
        assertThat(provider.strict(true).features()).doesNotContain(LockFeature.STALE_RECOVERY);
        assertThat(provider.availability().available()).isTrue();
        assertThat(provider.availability().reason()).contains("pure JDK");
        assertThat(provider.lease()).isEqualTo(ExclusiveCreateLockProvider.DEFAULT_LEASE);
        assertThat(provider.heartbeatPeriod()).isEqualTo(provider.lease().dividedBy(3));
    }

    @Test
    void optionsAreValidated() {
        assertThatThrownBy(() -> provider.withLease(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> provider.withLease(Duration.ofSeconds(3)).withHeartbeatPeriod(Duration.ofSeconds(3)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shorter than the lease");
        assertThat(provider.withLease(Duration.ofSeconds(9)).heartbeatPeriod()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void theNoArgConstructorReadsTheDocumentedSystemProperties() {
        try {
            System.setProperty(ExclusiveCreateLockProvider.LEASE_PROPERTY, "PT9S");
            System.setProperty(ExclusiveCreateLockProvider.STRICT_PROPERTY, "true");
            ExclusiveCreateLockProvider configured = new ExclusiveCreateLockProvider();
            assertThat(configured.lease()).isEqualTo(Duration.ofSeconds(9));
            assertThat(configured.heartbeatPeriod()).isEqualTo(Duration.ofSeconds(3));
            assertThat(configured.isStrict()).isTrue();
            System.setProperty(ExclusiveCreateLockProvider.LEASE_PROPERTY, "30 seconds");
            assertThatThrownBy(ExclusiveCreateLockProvider::new)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(ExclusiveCreateLockProvider.LEASE_PROPERTY)
                    .hasMessageContaining("PT30S");
        } finally {
            System.clearProperty(ExclusiveCreateLockProvider.LEASE_PROPERTY);
            System.clearProperty(ExclusiveCreateLockProvider.STRICT_PROPERTY);
        }
    }

    @Test
    void aSecondAcquireTimesOutWhileAThreadHoldsAndSucceedsAfterRelease() throws Exception {
        FileLocks locks = FileLocks.using(provider);
        Path lock = dir.resolve("seed.lock");
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            try (LockHandle ignored = locks.acquire(lock, Duration.ofSeconds(5))) {
                held.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        holder.start();
        assertThat(held.await(30, TimeUnit.SECONDS)).isTrue();

        long start = System.nanoTime();
        assertThatThrownBy(() -> locks.acquire(lock, Duration.ofMillis(500))).isInstanceOf(LockTimeoutException.class);
        assertThat(System.nanoTime() - start)
                .isGreaterThanOrEqualTo(Duration.ofMillis(500).toNanos());

        done.countDown();
        holder.join();
        try (LockHandle again = locks.acquire(lock, Duration.ofSeconds(5))) {
            assertThat(again.isOpen()).isTrue();
        }
        assertThat(Files.exists(lock)).isFalse();
    }

    @Test
    void sequentialAcquisitionsGetGrowingFencingTokensAndLeaveOnlyTheGenerationFile() throws Exception {
        FileLocks locks = FileLocks.using(provider);
        Path lock = dir.resolve("seq.lock");
        List<Long> tokens = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            try (LockHandle handle = locks.acquire(lock, Duration.ofSeconds(5))) {
                tokens.add(handle.fencingToken());
                LockOwner owner = provider.readOwner(lock);
                assertThat(owner).isInstanceOf(LockOwner.Known.class);
                OwnerRecord record = ((LockOwner.Known) owner).record();
                assertThat(record.isThisProcess()).isTrue();
                assertThat(record.provider()).isEqualTo("exclusive-create");
                assertThat(record.generation()).isEqualTo(handle.fencingToken());
            }
        }
        assertThat(tokens).isSorted().doesNotHaveDuplicates();
        assertThat(tokens.get(4) - tokens.get(0)).isEqualTo(4);
        assertThat(listing()).containsExactly("seq.lock.gen");
    }

    @Test
    void theRecordCarriesTheGenerationFromTheFileEvenWhenThisJvmGuessedWrong() throws Exception {
        Path lock = dir.resolve("gen.lock");
        Files.writeString(GenerationFile.pathFor(lock), "41\n");
        HeldLock held = provider.tryLock(request(lock)).orElseThrow();
        try {
            assertThat(held.fencingToken()).isEqualTo(42);
            assertThat(((LockOwner.Known) provider.readOwner(lock)).record().generation())
                    .isEqualTo(42);
        } finally {
            provider.release(held);
        }
        byte[] gen = Files.readAllBytes(GenerationFile.pathFor(lock));
        assertThat(GenerationFile.parseLargest(gen, gen.length)).isEqualTo(42);
    }

    @Test
    void aDamagedGenerationFileNeverMakesTheTokenGoBackwardsInThisJvm() throws Exception {
        Path lock = dir.resolve("damaged.lock");
        Files.writeString(GenerationFile.pathFor(lock), "99");
        HeldLock first = provider.tryLock(request(lock)).orElseThrow();
        provider.release(first);
        Files.writeString(GenerationFile.pathFor(lock), "garbage");
        HeldLock second = provider.tryLock(request(lock)).orElseThrow();
        provider.release(second);
        assertThat(first.fencingToken()).isEqualTo(100);
        assertThat(second.fencingToken()).isEqualTo(101);
    }

    @Test
    void generationDigitsRoundTripAndAreReadLeniently() {
        qt().forAll(longs().between(0, Long.MAX_VALUE)).checkAssert(value -> {
            byte[] bytes = GenerationFile.format(value);
            assertThat(bytes).hasSize(20);
            assertThat(GenerationFile.parse(bytes, bytes.length)).isEqualTo(value);
            byte[] damaged = (Long.toString(value) + "x!").getBytes(StandardCharsets.US_ASCII);
            assertThat(GenerationFile.parse(damaged, damaged.length)).isEqualTo(value);
        });
        assertThat(GenerationFile.parse(new byte[0], 0)).isZero();
    }

    @Test
    void theHeartbeatMovesWhileHeldThroughTheRecordsOwnFile() throws Exception {
        ExclusiveCreateLockProvider quick = provider.withLease(Duration.ofMillis(300));
        Path lock = dir.resolve("beat.lock");
        HeldLock held = quick.tryLock(request(lock)).orElseThrow();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long heartbeat = 0;
            while (heartbeat < 2 && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polls an effect, orders nothing
                heartbeat = ((LockOwner.Known) quick.readOwner(lock)).record().heartbeat();
            }
            assertThat(heartbeat).as("heartbeat after up to 30 s").isGreaterThanOrEqualTo(2);
        } finally {
            quick.release(held);
        }
        ExclusiveHold hold = (ExclusiveHold) held;
        hold.beat(); // after release it must be a no-op, not a write to some other file
        assertThat(listing()).containsExactly("beat.lock.gen");
    }

    @Test
    void releaseOfAReplacedRecordThrowsLockLostAndLeavesTheForeignRecord() throws Exception {
        Path lock = dir.resolve("replaced.lock");
        HeldLock held = provider.tryLock(request(lock)).orElseThrow();
        Files.delete(lock); // as a breaker would
        OwnerRecord foreign = HandMadeRecords.onAnotherHost("f0f0");
        HandMadeRecords.write(lock, foreign);

        assertThatThrownBy(() -> provider.release(held))
                .isInstanceOf(LockLostException.class)
                .hasMessageContaining(lock.toString())
                .hasMessageContaining("elsewhere.example");
        assertThat(((LockOwner.Known) provider.readOwner(lock)).record().token())
                .isEqualTo("f0f0");
        assertThat(listing()).containsExactlyInAnyOrder("replaced.lock", "replaced.lock.gen");
    }

    @Test
    void releaseOfABrokenLockThrowsLockLost() throws Exception {
        Path lock = dir.resolve("broken.lock");
        HeldLock held = provider.tryLock(request(lock)).orElseThrow();
        Files.move(lock, dir.resolve("moved-away"), StandardCopyOption.ATOMIC_MOVE);
        assertThatThrownBy(() -> provider.release(held))
                .isInstanceOf(LockLostException.class)
                .hasMessageContaining("gone");
    }

    @Test
    void withoutHardLinksRecordsArePublishedByCreateExclusive() throws Exception {
        ExclusiveCreateLockProvider noLinks = provider.withLinking((link, existing) -> {
            throw new UnsupportedOperationException("no hard links in this test");
        });
        Path lock = dir.resolve("nolinks.lock");
        HeldLock held = noLinks.tryLock(request(lock)).orElseThrow();
        try {
            assertThat(noLinks.tryLock(request(lock))).isEmpty();
            assertThat(((LockOwner.Known) noLinks.readOwner(lock)).record().isThisProcess())
                    .isTrue();
        } finally {
            noLinks.release(held);
        }
        assertThat(listing()).containsExactly("nolinks.lock.gen");
        ProbeResult probe = noLinks.probe(dir);
        assertThat(probe.verdict()).isEqualTo(ProbeResult.Verdict.EXCLUDES);
        assertThat(probe.reason()).contains("hard links are not supported");
    }

    @Test
    void probeExcludesOnALocalDirectoryAndNamesItsType() throws Exception {
        ProbeResult probe = provider.probe(dir);
        assertThat(probe.verdict()).isEqualTo(ProbeResult.Verdict.EXCLUDES);
        assertThat(probe.fileSystemType()).isEqualTo(Files.getFileStore(dir).type());
        assertThat(probe.reason()).contains("link(2)");
        assertThat(listing()).isEmpty();
    }

    @Test
    void probeSaysDoesNotExcludeWhenLinksOverwrite() {
        ExclusiveCreateLockProvider lying = provider.withLinking(
                (link, existing) -> Files.copy(existing, link, StandardCopyOption.REPLACE_EXISTING));
        ProbeResult probe = lying.probe(dir);
        assertThat(probe.verdict()).isEqualTo(ProbeResult.Verdict.DOES_NOT_EXCLUDE);
        assertThat(probe.reason()).contains("do not use exclusive-create here");
    }

    @Test
    void probeOfAMissingDirectoryIsUnavailable() {
        ProbeResult probe = provider.probe(dir.resolve("missing"));
        assertThat(probe.verdict()).isEqualTo(ProbeResult.Verdict.UNAVAILABLE);
        assertThat(probe.reason()).contains("cannot create");
    }

    @Test
    void anEmptyRecordReadsAsUnreadableAndNeverThrows() throws Exception {
        Path lock = dir.resolve("empty.lock");
        Files.createFile(lock);
        assertThat(provider.readOwner(lock)).isInstanceOf(LockOwner.Unreadable.class);
        Files.writeString(lock, "lockcache-owner 1\npid=12"); // a partial record
        assertThat(provider.readOwner(lock)).isInstanceOf(LockOwner.Unreadable.class);
        assertThat(provider.readOwner(dir.resolve("absent.lock"))).isInstanceOf(LockOwner.Absent.class);
    }

    @Test
    void interruptingAWaiterLeavesNothingHeld() throws Exception {
        FileLocks locks = FileLocks.using(provider);
        Path lock = dir.resolve("interrupt.lock");
        HandMadeRecords.write(lock, HandMadeRecords.onAnotherHost("1234"));
        CountDownLatch started = new CountDownLatch(1);
        List<Throwable> outcome = new ArrayList<>();
        Thread waiter = new Thread(() -> {
            started.countDown();
            try {
                locks.acquire(lock, LockOptions.exclusive().waitForever()).close();
            } catch (Throwable e) {
                outcome.add(e);
            }
        });
        waiter.start();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        waiter.interrupt();
        waiter.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(outcome).singleElement().isInstanceOf(InterruptedException.class);
        assertThat(FileLocks.pathsInUse()).isZero();
        assertThat(((LockOwner.Known) provider.readOwner(lock)).record().token())
                .isEqualTo("1234");
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static LockRequest request(Path lock) {
        return new LockRequest(lock, LockMode.EXCLUSIVE, "test");
    }
}
