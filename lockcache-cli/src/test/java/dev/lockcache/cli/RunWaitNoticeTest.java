package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.OwnerRecord;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A waiting {@code lockcache run} says on stderr whom it waits for, first after {@code --notice-after} and
 * then every {@code --notice-every}; {@code -q} says nothing. No sleeps: the waiter's lines are read as they come,
 * and the holder releases on a line sent to it.
 */
class RunWaitNoticeTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"flock", "nio", "exclusive-create"})
    void aWaiterNamesTheHolderAgainAndAgainUntilItGetsTheLock(String provider) throws Exception {
        Path lock = dir.resolve("wait.lock");
        try (Cli holder = Cli.holder(dir, lock, "--provider", provider)) {
            try (Cli waiter = Cli.start(
                    dir,
                    "run",
                    "--provider",
                    provider,
                    "--notice-after",
                    "50ms",
                    "--notice-every",
                    "50ms",
                    lock.toString(),
                    "echo",
                    "got it")) {
                String first = waiter.expectErr("lockcache run: waiting for ");
                assertThat(first)
                        .contains(lock.toRealPath().toString())
                        .contains("held by pid " + holder.pid() + " on " + OwnerRecord.currentHost() + " since ")
                        .contains("'lockcache run sh -c echo held; read line'")
                        .containsPattern("; waited \\d+\\.\\d s$");
                String second = waiter.expectErr("lockcache run: waiting for ");
                assertThat(waited(second)).as("the wait grows").isGreaterThanOrEqualTo(waited(first));

                holder.send("release");
                assertThat(holder.awaitResult().exit()).isZero();
                Cli.Result done = waiter.awaitResult();
                assertThat(done.exit()).as(done.toString()).isZero();
                assertThat(done.stdout()).isEqualTo("got it\n");
            }
        }
    }

    @Test
    void quietWaitersSayNothingAndTheTimeoutLineIsAllThereIs() throws Exception {
        Path lock = dir.resolve("quiet.lock");
        try (Cli holder = Cli.holder(dir, lock, "--provider", "flock")) {
            Cli.Result loud = Cli.run(
                    dir, "run", "--provider", "flock", "--notice-after", "50ms", "-w", "1", lock.toString(), "true");
            assertThat(loud.exit()).as(loud.toString()).isEqualTo(RunCommandTest.CONFLICT);
            assertThat(loud.stderr()).as(loud.toString()).contains("lockcache run: waiting for");

            Cli.Result quiet = Cli.run(
                    dir,
                    "run",
                    "-q",
                    "--provider",
                    "flock",
                    "--notice-after",
                    "50ms",
                    "-w",
                    "1",
                    lock.toString(),
                    "true");
            assertThat(quiet.exit()).as(quiet.toString()).isEqualTo(RunCommandTest.CONFLICT);
            RunCommandTest.assertOneLineError(quiet, "timed out");
            assertThat(quiet.stderr()).doesNotContain("lockcache run: waiting for");

            holder.send("release");
            assertThat(holder.awaitResult().exit()).isZero();
        }
    }

    private static double waited(String line) {
        String tail = line.substring(line.lastIndexOf("waited ") + "waited ".length());
        return Double.parseDouble(tail.substring(0, tail.indexOf(' ')));
    }
}
