package dev.lockcache.lock.exclusive;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class DirectoryWatchersTest {

    /** Far longer than any test waits: a waiter that returns did so because it was woken. */
    private static final long FOREVER_NANOS = TimeUnit.MINUTES.toNanos(10);

    @TempDir
    Path dir;

    private final DirectoryWatchers watchers = new DirectoryWatchers();

    @Test
    void waitersOfADirectoryShareOneWatchAndAreWokenByTheRemovalOfTheirFile() throws Exception {
        Path lock = Files.createFile(dir.resolve("a.lock"));
        Path other = Files.createFile(dir.resolve("b.lock"));
        CompletableFuture<Void> first = waitFor(lock);
        CompletableFuture<Void> second = waitFor(lock);
        CompletableFuture<Void> elsewhere = waitFor(other);
        awaitWaiters(lock, 2);
        awaitWaiters(other, 1);
        assertThat(watchers.watchedDirectories()).isEqualTo(1);

        Files.delete(lock);
        first.get(60, TimeUnit.SECONDS);
        second.get(60, TimeUnit.SECONDS);
        assertThat(elsewhere).isNotDone(); // its file is still there; only its own removal wakes it

        Files.move(other, dir.resolve("b.moved")); // a rename away is a removal too
        elsewhere.get(60, TimeUnit.SECONDS);
    }

    @Test
    void aWaiterForAFileAlreadyGoneReturnsAtOnce() throws Exception {
        watchers.awaitRemoval(dir.resolve("never.lock"), FOREVER_NANOS);
    }

    @Test
    void aWaiterAnswersInterruptWithInterruptedException() throws Exception {
        Path lock = Files.createFile(dir.resolve("c.lock"));
        Thread waiter = Thread.currentThread();
        CompletableFuture<Void> interrupter = CompletableFuture.runAsync(() -> {
            awaitWaiters(lock, 1);
            waiter.interrupt();
        });
        try {
            watchers.awaitRemoval(lock, FOREVER_NANOS);
            throw new AssertionError("the wait ended without an interrupt");
        } catch (InterruptedException expected) {
            assertThat(watchers.waitingFor(lock)).isZero();
        }
        interrupter.get(60, TimeUnit.SECONDS);
    }

    private CompletableFuture<Void> waitFor(Path lock) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                watchers.awaitRemoval(lock, FOREVER_NANOS);
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        thread.setDaemon(true);
        thread.start();
        return done;
    }

    /** Polls (a liveness wait, it orders nothing) until {@code count} threads wait for {@code lock}. */
    private void awaitWaiters(Path lock, int count) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (watchers.waitingFor(lock) < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(count + " waiters for " + lock + " never registered");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
