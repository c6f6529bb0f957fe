package dev.lockcache.examples;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** The README's lock quick start: run it with a directory, e.g. {@code /data/.locks}. */
public final class LockQuickStart {

    public static void main(String[] args) throws InterruptedException {
        Path lockDir = Path.of(args.length > 0 ? args[0] : "/tmp/lockcache-example");
        FileLocks locks = FileLocks.discover(); // several providers installed: the filesystem of each lock decides
        Path lock = lockDir.resolve("import.lock");

        try (LockHandle held = locks.acquire(
                lock,
                LockOptions.exclusive(Duration.ofSeconds(30))
                        .withOperation("nightly import")
                        .withWaitListener((path, waited, holder) ->
                                System.err.println("still waiting " + waited + " for " + holder.describe())))) {
            // no other thread of this JVM, and no other process locking this path, is here
            System.out.println("held through " + held.provider() + ", token " + held.fencingToken());
        }

        try (LockHandle h = locks.tryAcquire(lock, LockMode.EXCLUSIVE).orElse(null)) {
            if (h == null) {
                System.out.println("busy: someone else is importing");
                return;
            }
            LockStatus status = locks.status(lock); // held now, and by whom
            System.out.println("held by this thread: " + status.heldByCurrentThread());
        }

        long rows = locks.withLock(lock, LockOptions.exclusive(), held -> 42L); // released however it ends
        System.out.println("imported " + rows + " rows; last record: "
                + locks.lastRecord(lock).describe());

        CompletableFuture<LockHandle> later = locks.acquireAsync(lock, LockOptions.shared(Duration.ofMinutes(1)));
        try (LockHandle shared = later.join()) { // queued without a thread while another holder has it
            System.out.println("shared: " + shared.mode());
        }
    }
}
