package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.testkit.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * kill -9 of a child JVM that holds the lock: a waiter gets it, whether it asks after the kill or was already
 * blocked in the kernel when it came (the kernel drops kernel locks with the process;
 * exclusive-create proves the holder dead from its owner record: same host, pid gone).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CrashIT {

    static final List<String> PROVIDERS = List.of("flock", "nio", "ofd", "double", "exclusive-create");

    /** A liveness bound, far above the ~10 ms the kernel takes; not a timing claim. */
    static final Duration RECOVERY_BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @FieldSource("PROVIDERS")
    void aWaiterAcquiresAfterTheHolderIsKilled(String provider) throws Exception {
        FileLocks locks = FileLocks.using(Tools.provider(provider));
        Path lock = dir.resolve("crash.lock");
        long holderPid;
        try (ChildJvm holder = ChildJvm.lockChild(provider, "hold", lock.toString(), "EXCLUSIVE", "doomed")) {
            holder.expect("HELD");
            holderPid = holder.pid();
            assertThat(locks.tryAcquire(lock, LockMode.EXCLUSIVE))
                    .as("held by the child")
                    .isEmpty();
            LockOwner owner = locks.owner(lock);
            assertThat(owner).isInstanceOf(LockOwner.Known.class);
            assertThat(((LockOwner.Known) owner).record().pid()).isEqualTo(holderPid);
            holder.kill();
        }
        long start = System.nanoTime();
        try (LockHandle handle = locks.acquire(lock, LockOptions.exclusive(RECOVERY_BOUND))) {
            long waited = System.nanoTime() - start;
            System.out.printf(
                    "%s: acquired %d ms after kill -9 of holder pid %d%n", provider, waited / 1_000_000, holderPid);
            assertThat(handle.isOpen()).isTrue();
            LockOwner owner = locks.owner(lock);
            assertThat(owner).isInstanceOf(LockOwner.Known.class);
            assertThat(((LockOwner.Known) owner).record().isThisProcess()).isTrue();
        }
    }

    static final List<String> KERNEL = Tools.KERNEL_PROVIDERS;

    @ParameterizedTest(name = "{0}")
    @FieldSource("KERNEL")
    void aWaiterBlockedInTheKernelIsHandedTheLockWhenTheHolderIsKilled(String provider) throws Exception {
        Tools.provider(provider);
        Path lock = dir.resolve("handoff.lock");
        try (ChildJvm holder = ChildJvm.lockChild(provider, "hold", lock.toString(), "EXCLUSIVE", "doomed");
                Scripted waiter = Scripted.start(Launch.faultChild(provider, java.util.Map.of()))) {
            holder.expect("HELD");
            assertThat(waiter.ask("acquire-async " + lock + " EXCLUSIVE " + RECOVERY_BOUND.toMillis()))
                    .isEqualTo("STARTED");
            waiter.awaitEvent("WAITING");
            long killedAt = System.nanoTime();
            holder.kill();
            String got = waiter.awaitEvent("ASYNC ");
            long handoff = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            System.out.printf(
                    "%s: blocked waiter -> %s, %d ms after kill -9 (seen from the test)%n", provider, got, handoff);
            assertThat(got).startsWith("ASYNC ACQUIRED ");
            assertThat(waiter.exit()).isZero();
        }
    }
}
