package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockMode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * SIGSTOP of holders. An exclusive-create holder stopped past its lease is broken, and when SIGCONT resumes it,
 * its loss listener tells it at once, so it refuses to enter the critical section beside the new holder (the
 * marker file of the kit's {@code count} shows any meeting). A stopped kernel-lock holder keeps its lock (the
 * kernel has no lease): a waiter times out. (kill -9 of holders, and a waiter blocked when its holder is killed,
 * are in {@link CrashIT}.)
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class StopAndKillIT {

    static final List<String> KERNEL = Tools.KERNEL_PROVIDERS;

    /** A short lease so that a stopped holder goes stale quickly; every child uses the same one. */
    static final Map<String, String> SHORT_LEASE = Map.of("lockcache.exclusive-create.lease", "PT1S");

    @TempDir
    Path dir;

    @Test
    void aStoppedExclusiveCreateHolderIsBrokenAndToldWhenResumed() throws Exception {
        Tools.provider("exclusive-create");
        Path lock = dir.resolve("stopped.lock");
        Path marker = dir.resolve("critical.inside");
        try (Scripted first = Scripted.start(Launch.faultChild("exclusive-create", SHORT_LEASE));
                Scripted second = Scripted.start(Launch.faultChild("exclusive-create", SHORT_LEASE))) {
            String held = first.ask("acquire " + lock + " EXCLUSIVE 10000");
            assertThat(held).startsWith("ACQUIRED ");
            long firstToken = Long.parseLong(held.split(" ")[1]);
            signal("STOP", first.pid());
            String taken;
            try {
                taken = second.ask("acquire " + lock + " EXCLUSIVE 60000");
                assertThat(taken)
                        .as("the waiter breaks the stopped holder's lease")
                        .startsWith("ACQUIRED ");
                assertThat(second.ask("work " + marker)).isEqualTo("IN");
            } finally {
                signal("CONT", first.pid());
            }
            long secondToken = Long.parseLong(taken.split(" ")[1]);
            String lost = first.awaitEvent("LOST ");
            String entry = first.ask("work " + marker);
            String release = first.ask("release");
            System.out.printf(
                    "exclusive-create, 2 processes, 1 SIGSTOP past a 1 s lease: breaker got token %d after %s ms"
                            + " (stopped holder had %d); resumed holder told '%s'; its work -> %s; its release -> %s%n",
                    secondToken, taken.split(" ")[2], firstToken, lost, entry, release);
            assertThat(secondToken).as("fencing token of the breaker").isGreaterThan(firstToken);
            assertThat(entry)
                    .as("the resumed holder must not enter beside the new one")
                    .startsWith("REFUSED ");
            assertThat(release).as("its release reports the loss").startsWith("RELEASE-FAILED ");
            FileLocks here = FileLocks.using(Tools.provider("exclusive-create"));
            assertThat(here.tryAcquire(lock, LockMode.EXCLUSIVE))
                    .as("the old holder's release left the new holder's lock alone")
                    .isEmpty();
            assertThat(second.ask("leave " + marker)).isEqualTo("OUT");
            assertThat(second.ask("release")).isEqualTo("RELEASED");
            assertThat(first.exit()).isZero();
            assertThat(second.exit()).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("KERNEL")
    void aStoppedKernelHolderKeepsItsLock(String provider) throws Exception {
        Tools.provider(provider);
        Path lock = dir.resolve("kernel.lock");
        Path marker = dir.resolve("critical.inside");
        try (Scripted holder = Scripted.start(Launch.faultChild(provider, Map.of()));
                Scripted waiter = Scripted.start(Launch.faultChild(provider, Map.of()))) {
            assertThat(holder.ask("acquire " + lock + " EXCLUSIVE 10000")).startsWith("ACQUIRED ");
            assertThat(holder.ask("work " + marker)).isEqualTo("IN");
            signal("STOP", holder.pid());
            String waited;
            try {
                waited = waiter.ask("acquire " + lock + " EXCLUSIVE 1500");
            } finally {
                signal("CONT", holder.pid());
            }
            System.out.printf("%s: waiter beside a stopped holder -> %s%n", provider, waited);
            assertThat(waited).startsWith("TIMEOUT ");
            assertThat(holder.ask("leave " + marker)).isEqualTo("OUT");
            assertThat(holder.eventsSoFar("LOST"))
                    .as("a kernel lock is never lost")
                    .isEmpty();
            assertThat(holder.ask("release")).isEqualTo("RELEASED");
            assertThat(waiter.ask("try " + lock + " EXCLUSIVE")).startsWith("ACQUIRED ");
            assertThat(holder.exit()).isZero();
            assertThat(waiter.exit()).isZero();
        }
    }

    static void signal(String name, long pid) throws Exception {
        assertThat(Tools.run(List.of("kill", "-" + name, Long.toString(pid))))
                .as("kill -%s %d", name, pid)
                .isZero();
    }
}
