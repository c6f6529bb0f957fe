package dev.lockcache.it;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockException;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.LockTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A misbehaving peer, in a child JVM: {@code DeleterChild PROVIDER LOCK STOPFILE} repeatedly takes the lock
 * (waiting at most 20 ms), unlinks the lock file while holding it (pausing 1 ms), and releases, until STOPFILE
 * exists; then
 * prints {@code DELETED <count>}. It prints {@code STARTED} before its first attempt.
 */
public final class DeleterChild {

    private static final long PACE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private DeleterChild() {}

    public static void main(String[] args) throws Exception {
        FileLocks locks = FileLocks.using(LockProviders.named(args[0]));
        Path lock = Path.of(args[1]);
        Path stop = Path.of(args[2]);
        long deleted = 0;
        System.out.println("STARTED");
        System.out.flush();
        while (!Files.exists(stop)) {
            LockHandle handle;
            try {
                handle = locks.acquire(lock, Duration.ofMillis(20));
            } catch (LockTimeoutException e) {
                continue;
            }
            try {
                if (Files.deleteIfExists(lock)) {
                    deleted++;
                }
                // pacing, not ordering: leave the counters room to run between deletions on a 2-core machine
                LockSupport.parkNanos(PACE_NANOS);
            } finally {
                try {
                    handle.close();
                } catch (LockException e) {
                    // a provider may report that its file vanished; we removed it ourselves
                }
            }
        }
        System.out.println("DELETED " + deleted);
        System.out.flush();
    }
}
