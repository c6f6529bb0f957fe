package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * How long the lock and the command live against each other: signals to lockcache reach the command and what it
 * started; a kill -9 of lockcache leaves a handed-over lock with the command, and kills a command whose lock
 * died with lockcache. Ordered by handshakes through the command's stdout and stdin.
 */
class RunLifetimeTest {

    /** The command: starts a grandchild, prints both pids, holds until a line arrives on stdin. */
    private static final String FAMILY = "sleep 1000 & echo pids $$ $!; read line; kill $!";

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"flock,", "flock,--close", "nio,", "exclusive-create,"})
    void sigtermToLockcacheEndsTheCommandAndItsChildrenWithStatus143(String provider, String extra) throws Exception {
        Path lock = dir.resolve("term.lock");
        try (Cli run = start(lock, provider, extra)) {
            long[] pids = pids(run.expect("pids "));
            ProcessHandle shell = ProcessHandle.of(pids[0]).orElseThrow();
            ProcessHandle grandchild = ProcessHandle.of(pids[1]).orElseThrow();

            ProcessHandle.of(run.pid()).orElseThrow().destroy(); // SIGTERM to the JVM

            assertThat(run.awaitResult().exit()).isEqualTo(128 + 15);
            awaitDeath(shell, "the command");
            awaitDeath(grandchild, "the command's child");
        }
        assertFree(lock, provider);
    }

    @ParameterizedTest
    @CsvSource({"nio,", "exclusive-create,", "flock,--close"})
    void killMinus9OfLockcacheKillsACommandWhoseLockDiedWithIt(String provider, String extra) throws Exception {
        Path lock = dir.resolve("watchdog.lock");
        try (Cli run = start(lock, provider, extra)) {
            long[] pids = pids(run.expect("pids "));
            ProcessHandle shell = ProcessHandle.of(pids[0]).orElseThrow();
            ProcessHandle grandchild = ProcessHandle.of(pids[1]).orElseThrow();

            ProcessHandle.of(run.pid()).orElseThrow().destroyForcibly(); // SIGKILL: no hook runs

            awaitDeath(shell, "the command");
            awaitDeath(grandchild, "the command's child");
        }
    }

    @Test
    void killMinus9OfLockcacheLeavesAFlockLockWithTheCommandUntilItExits() throws Exception {
        assumeTrue(
                flockHandsOverItsDescriptor(),
                "the flock provider does not offer an inheritable descriptor yet (LockHandle.inheritableDescriptor"
                        + " is empty); this test runs once lock-posix-flock returns it");
        Path lock = dir.resolve("handover.lock");
        try (Cli run = start(lock, "flock", null)) {
            long[] pids = pids(run.expect("pids "));
            ProcessHandle shell = ProcessHandle.of(pids[0]).orElseThrow();

            ProcessHandle.of(run.pid()).orElseThrow().destroyForcibly();
            assertThat(run.awaitExit()).isEqualTo(128 + 9);

            assertThat(shell.isAlive()).as("the command outlives lockcache").isTrue();
            Cli.Result refused = Cli.run(dir, "run", "-n", "--provider", "flock", lock.toString(), "true");
            assertThat(refused.exit())
                    .as("the command still holds the lock\n" + refused)
                    .isEqualTo(RunCommandTest.CONFLICT);

            run.send("done"); // the command's stdin is still ours
            awaitDeath(shell, "the command");
        }
        assertFree(lock, "flock");
    }

    @Test
    void underTheWatchdogTheCommandSeesOnlyItsStandardDescriptors() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "no /proc/self/fd to list descriptors");
        Path lock = dir.resolve("fds.lock");
        Cli.Result listed =
                Cli.run(dir, "run", "--provider", "nio", lock.toString(), "sh", "-c", "exec ls /proc/self/fd");
        assertThat(listed.exit()).as(listed.toString()).isZero();
        assertThat(listed.stdout().strip().split("\\R"))
                .as("no descriptor of the JVM leaks into the command: ls sees 0, 1, 2 and its own listing at 3")
                .containsExactly("0", "1", "2", "3");
    }

    private Cli start(Path lock, String provider, String extra) throws Exception {
        return extra == null || extra.isBlank()
                ? Cli.start(dir, "run", "--provider", provider, lock.toString(), "sh", "-c", FAMILY)
                : Cli.start(dir, "run", "--provider", provider, extra, lock.toString(), "sh", "-c", FAMILY);
    }

    private static long[] pids(String line) {
        String[] words = line.split(" ");
        return new long[] {Long.parseLong(words[1]), Long.parseLong(words[2])};
    }

    private static void awaitDeath(ProcessHandle process, String what) throws Exception {
        try {
            process.onExit().get(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            process.destroyForcibly();
            throw new AssertionError(what + " (pid " + process.pid() + ") is still alive", e);
        }
    }

    private void assertFree(Path lock, String provider) throws Exception {
        Cli.Result after = Cli.run(dir, "run", "-n", "--provider", provider, lock.toString(), "echo", "free");
        assertThat(after.exit()).as(after.toString()).isZero();
        assertThat(after.stdout()).isEqualTo("free\n");
    }

    private boolean flockHandsOverItsDescriptor() throws Exception {
        try (LockHandle handle = FileLocks.using(LockProviders.named("flock"))
                .acquire(dir.resolve("probe.lock"), LockOptions.exclusive(Duration.ofSeconds(5)))) {
            return handle.inheritableDescriptor().isPresent();
        }
    }
}
