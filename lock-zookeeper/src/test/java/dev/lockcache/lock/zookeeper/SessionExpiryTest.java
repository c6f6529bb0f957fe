package dev.lockcache.lock.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A holder whose JVM is paused (SIGSTOP) past its session timeout: the ensemble expires its session, a waiter
 * proceeds with a larger fencing token, and the old holder, resumed, is told it lost the lock and its release
 * throws; a store that
 * checks fencing tokens refuses whatever it still tries to write, since its token is the smaller one.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SessionExpiryTest {

    @TempDir
    Path dir;

    @Test
    void aPausedHolderLosesItsLockToAWaiterAndIsToldWhenItWakes() throws Exception {
        assumeTrue(signal("-0", ProcessHandle.current().pid()), "needs sh with kill(1) to pause a child JVM");
        Path lock = dir.resolve("expiry.lock");
        String root = "/expiry";
        try (ChildJvm child = ChildJvm.start(
                        HolderChild.class, TestZooKeeper.server().getConnectString(), root, "1000", lock.toString());
                ZooKeeperLockProvider provider = new ZooKeeperLockProvider(TestZooKeeper.config(root))) {
            long oldToken = Long.parseLong(child.expect("HELD ").split(" ")[1]);
            FileLocks locks = FileLocks.using(provider);
            assertThat(locks.tryAcquire(lock, dev.lockcache.lock.LockMode.EXCLUSIVE))
                    .as("held by the child")
                    .isEmpty();
            assertThat(signal("-STOP", child.pid())).isTrue();
            try (LockHandle handle = locks.acquire(lock, LockOptions.exclusive(Duration.ofMinutes(1)))) {
                // only the end of the child's session lets us in: the child is stopped and cannot release
                assertThat(handle.fencingToken()).isGreaterThan(oldToken);
                assertThat(locks.owner(lock)).isInstanceOfSatisfying(LockOwner.Known.class, known -> {
                    assertThat(known.record().isThisProcess()).isTrue();
                    assertThat(known.record().generation()).isEqualTo(handle.fencingToken());
                });
                assertThat(signal("-CONT", child.pid())).isTrue();
                assertThat(child.expect("LOST ")).contains("ZooKeeper");
                child.send("release");
                assertThat(child.expect("RELEASE")).startsWith("RELEASE-LOST").contains("lost while held");
                assertThat(child.awaitExit()).isZero();
                assertThat(handle.lost()).as("the new holder keeps its lock").isEmpty();
            }
        }
    }

    private static boolean signal(String signal, long pid) {
        try {
            Process kill = new ProcessBuilder("sh", "-c", "kill " + signal + " " + pid)
                    .redirectErrorStream(true)
                    .start();
            kill.getInputStream().readAllBytes();
            return kill.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
