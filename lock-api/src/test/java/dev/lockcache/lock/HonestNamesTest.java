package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code status} says who holds a lock now, {@code lastRecord} what the record says; try-lock and withLock close what they take. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class HonestNamesTest {

    @TempDir
    Path dir;

    private final InMemoryProvider provider = new InMemoryProvider(LockSupport::parkNanos);
    private final FileLocks locks = FileLocks.using(provider);

    private LockStatus statusFromAnotherThread(Path lock) throws InterruptedException {
        AtomicReference<LockStatus> seen = new AtomicReference<>();
        Thread other = new Thread(() -> seen.set(locks.status(lock)));
        other.start();
        other.join();
        return seen.get();
    }

    @Test
    void theHolderIsToldItHoldsAndOthersThatSomeoneDoes() throws Exception {
        Path lock = dir.resolve("s.lock");
        assertThat(locks.status(lock).holder()).isEqualTo(LockStatus.Holder.NOBODY);
        try (LockHandle held = locks.acquire(lock, LockOptions.shared())) {
            LockStatus mine = locks.status(lock);
            assertThat(mine.holder()).isEqualTo(LockStatus.Holder.CURRENT_THREAD);
            assertThat(mine.heldByCurrentThread()).isTrue();
            assertThat(mine.heldBy()).isPresent();
            LockStatus theirs = statusFromAnotherThread(lock);
            assertThat(theirs.holder()).isEqualTo(LockStatus.Holder.THIS_PROCESS);
            assertThat(theirs.held()).isTrue();
        }
        LockStatus free = locks.status(lock);
        assertThat(free.held()).isFalse();
        assertThat(free.heldBy()).isEmpty();
        assertThat(locks.lastRecord(lock)).isEqualTo(free.record());
    }

    @Test
    void anotherProcessIsNamedAsSuch() {
        Path lock = dir.resolve("p.lock");
        Path real = FileLocks.LockPaths.realPathOf(lock);
        provider.holdElsewhere(real);
        assertThat(locks.status(lock).holder()).isEqualTo(LockStatus.Holder.ANOTHER_PROCESS);
        provider.releaseElsewhere(real);
        assertThat(locks.status(lock).holder()).isEqualTo(LockStatus.Holder.NOBODY);
        assertThat(provider.heldCount()).isZero();
    }

    @Test
    void tryAcquireOrNullClosesWhatItTakesAndToleratesNothing() throws Exception {
        Path lock = dir.resolve("t.lock");
        try (LockHandle h = locks.tryAcquire(lock, LockMode.EXCLUSIVE).orElse(null)) {
            assertThat(h).isNotNull();
        }
        assertThat(provider.heldCount()).isZero();
        assertThat(FileLocks.pathsInUse()).isZero();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            try (LockHandle h = locks.acquire(lock, LockOptions.exclusive())) {
                held.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        holder.start();
        held.await();
        boolean ran = false;
        try (LockHandle h = locks.tryAcquire(lock, LockMode.EXCLUSIVE).orElse(null)) {
            assertThat(h).isNull();
            ran = true;
        }
        assertThat(ran).isTrue();
        done.countDown();
        holder.join();
        assertThat(provider.heldCount()).isZero();
    }

    @Test
    void withLockReturnsTheResultAndReleasesHoweverTheActionEnds() throws Exception {
        Path lock = dir.resolve("w.lock");
        int answer = locks.withLock(lock, LockOptions.exclusive(), handle -> {
            assertThat(handle.isOpen()).isTrue();
            assertThat(locks.status(lock).heldByCurrentThread()).isTrue();
            return 42;
        });
        assertThat(answer).isEqualTo(42);
        assertThat(provider.heldCount()).isZero();
        assertThatThrownBy(() -> locks.withLock(lock, LockOptions.exclusive(), handle -> {
                    throw new IOException("disk gone");
                }))
                .isInstanceOf(IOException.class)
                .hasMessage("disk gone");
        assertThat(provider.heldCount()).isZero();
        assertThat(FileLocks.pathsInUse()).isZero();
    }
}
