package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code lockcache run} end to end, as subprocesses ordered by handshakes through pipes. */
class RunCommandTest {

    /** run's status for a lock not obtained, as flock(1)'s: 1 unless -E says otherwise. */
    static final int CONFLICT = 1;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"flock", "nio", "ofd", "double", "exclusive-create"})
    void aHolderExcludesAnotherRunUntilItsCommandEnds(String provider) throws Exception {
        Path lock = dir.resolve("job.lock");
        try (Cli holder = Cli.start(
                dir,
                "run",
                "--lock",
                lock.toString(),
                "--provider",
                provider,
                "--",
                "sh",
                "-c",
                "echo held; read line; exit 7")) {
            holder.expect("held");

            Cli.Result refused = Cli.run(
                    dir, "run", "--nonblock", "--lock", lock.toString(), "--provider", provider, "--", "echo", "ran");
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(CONFLICT);
            assertThat(refused.stdout()).doesNotContain("ran");
            assertOneLineError(refused, "lockcache inspect " + lock.toRealPath());

            holder.send("release");
            assertThat(holder.awaitResult().exit())
                    .as("the command's own status")
                    .isEqualTo(7);
        }
        Cli.Result after =
                Cli.run(dir, "run", "-n", "--lock", lock.toString(), "--provider", provider, "--", "echo", "ran");
        assertThat(after.exit()).as(after.toString()).isZero();
        assertThat(after.stdout()).isEqualTo("ran\n");
    }

    @Test
    void aTimedWaitGivesUpNotBeforeItsTimeout() throws Exception {
        Path lock = dir.resolve("timed.lock");
        try (Cli holder = Cli.holder(dir, lock)) {
            long start = System.nanoTime();
            Cli.Result refused = Cli.run(dir, "run", "--timeout", "700ms", "--lock", lock.toString(), "--", "true");
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(CONFLICT);
            assertThat(waitedMillis).isGreaterThanOrEqualTo(700);
            assertOneLineError(refused, "timed out");
            holder.send("release");
            assertThat(holder.awaitResult().exit()).isZero();
        }
    }

    @Test
    void aWaiterRunsAsSoonAsTheHolderReleases() throws Exception {
        Path lock = dir.resolve("handoff.lock");
        Path order = dir.resolve("order.txt");
        try (Cli holder = Cli.start(
                dir,
                "run",
                "--lock",
                lock.toString(),
                "--",
                "sh",
                "-c",
                "echo held; read line; echo first >> order.txt")) {
            holder.expect("held");
            try (Cli waiter = Cli.start(
                    dir, "run", "--verbose", "--lock", lock.toString(), "--", "sh", "-c", "echo second >> order.txt")) {
                holder.send("release");
                assertThat(holder.awaitResult().exit()).isZero();
                assertThat(waiter.awaitResult().exit()).isZero();
            }
        }
        assertThat(Files.readAllLines(order)).containsExactly("first", "second");
    }

    @Test
    void sharedHoldersRunTogetherAndExcludeAnExclusiveOne() throws Exception {
        Path lock = dir.resolve("shared.lock");
        List<Cli> readers = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                Cli reader = Cli.start(
                        dir,
                        "run",
                        "--shared",
                        "--lock",
                        lock.toString(),
                        "--provider",
                        "flock",
                        "--",
                        "sh",
                        "-c",
                        "echo reading; read line");
                readers.add(reader);
                reader.expect("reading");
            }
            Cli.Result writer =
                    Cli.run(dir, "run", "-n", "--lock", lock.toString(), "--provider", "flock", "--", "true");
            assertThat(writer.exit()).as(writer.toString()).isEqualTo(CONFLICT);
            for (Cli reader : readers) {
                reader.send("done");
                assertThat(reader.awaitResult().exit()).isZero();
            }
        } finally {
            for (Cli reader : readers) {
                reader.close();
            }
        }
    }

    @Test
    void flockUtilityAndLockcacheExcludeEachOtherBothWays() throws Exception {
        assumeTrue(onPath("flock"), "flock(1) from util-linux is not installed; skipping the interop test");
        Path lock = dir.resolve("interop.lock");

        // lockcache holds: flock(1) -n is refused (its conflict status is 1), then succeeds after release
        try (Cli holder = Cli.holder(dir, lock, "--provider", "flock")) {
            assertThat(flockUtility("-n", lock.toString(), "true")).isEqualTo(1);
            holder.send("release");
            assertThat(holder.awaitResult().exit()).isZero();
        }
        assertThat(flockUtility("-n", lock.toString(), "true")).isZero();

        // flock(1) holds: lockcache --nonblock is refused, then succeeds after release
        Process utility = new ProcessBuilder("flock", lock.toString(), "sh", "-c", "echo held; read line")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            assertThat(new String(utility.getInputStream().readNBytes(5))).isEqualTo("held\n");
            Cli.Result refused =
                    Cli.run(dir, "run", "-n", "--lock", lock.toString(), "--provider", "flock", "--", "true");
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(CONFLICT);
            utility.getOutputStream().write("release\n".getBytes());
            utility.getOutputStream().close();
            assertThat(utility.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS))
                    .isTrue();
        } finally {
            utility.destroyForcibly();
            utility.waitFor();
        }
        Cli.Result after =
                Cli.run(dir, "run", "-n", "--lock", lock.toString(), "--provider", "flock", "--", "echo", "ok");
        assertThat(after.exit()).as(after.toString()).isZero();
    }

    @Test
    void badInputGivesOneLineAndADistinctStatus() throws Exception {
        Path lock = dir.resolve("x.lock");
        Cli.Result unknown =
                Cli.run(dir, "run", "--lock", lock.toString(), "--provider", "no-such-provider", "--", "true");
        assertThat(unknown.exit()).isEqualTo(ExitCode.USAGE);
        assertOneLineError(unknown, "unknown provider 'no-such-provider'; known: ");
        assertThat(unknown.stderr()).contains("flock").contains("nio").contains("exclusive-create");

        Cli.Result duration = Cli.run(dir, "run", "--timeout", "5 parsecs", "--lock", lock.toString(), "--", "true");
        assertThat(duration.exit()).isEqualTo(ExitCode.USAGE);
        assertOneLineError(duration, "'5 parsecs' is not a duration");

        Cli.Result both = Cli.run(dir, "run", "-s", "-x", "--lock", lock.toString(), "--", "true");
        assertThat(both.exit()).isEqualTo(ExitCode.USAGE);
        assertOneLineError(both, "exclude each other");

        Cli.Result noCommand = Cli.run(dir, "run", "--lock", lock.toString());
        assertThat(noCommand.exit()).isEqualTo(ExitCode.USAGE);
        assertOneLineError(noCommand, "COMMAND");

        Cli.Result missing = Cli.run(dir, "run", "--lock", lock.toString(), "--", "no-such-command-here");
        assertThat(missing.exit()).isEqualTo(ExitCode.COMMAND_NOT_FOUND);
        assertOneLineError(missing, "no-such-command-here");

        Files.createDirectories(dir.resolve("adir"));
        Cli.Result directory = Cli.run(dir, "run", "--lock", dir.resolve("adir").toString(), "--", "true");
        assertThat(directory.exit()).isEqualTo(ExitCode.FAILURE);
        assertOneLineError(directory, "is a directory");

        Path loop = dir.resolve("loop.lock");
        Files.createSymbolicLink(loop, loop.getFileName());
        Cli.Result unreadable = Cli.run(dir, "run", "--lock", loop.toString(), "--", "true");
        assertThat(unreadable.exit()).isEqualTo(ExitCode.FAILURE);
        assertOneLineError(unreadable, loop.toString());

        Cli.Result verbose = Cli.run(dir, "run", "--verbose", "--lock", loop.toString(), "--", "true");
        assertThat(verbose.exit()).isEqualTo(ExitCode.FAILURE);
        assertThat(verbose.stderr()).as("--verbose shows the stack trace").contains("\tat dev.lockcache.");
    }

    static void assertOneLineError(Cli.Result result, String expected) {
        assertThat(result.stderrLines()).as(result.toString()).hasSize(1);
        assertThat(result.stderr()).contains(expected).doesNotContain("\tat ").doesNotContain("Exception in thread");
    }

    private static int flockUtility(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("flock"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).inheritIO().start();
        try {
            assertThat(p.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            return p.exitValue();
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String entry : path.split(java.io.File.pathSeparator)) {
            if (!entry.isEmpty() && Files.isExecutable(Path.of(entry, program))) {
                return true;
            }
        }
        return false;
    }
}
