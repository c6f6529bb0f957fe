package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same command lines through util-linux {@code flock(1)} and {@code lockcache run --provider flock}, on a
 * free lock, on one held exclusively and on one held shared by a {@code flock(1)} holder: the exit statuses must
 * match. The README's flock(1) table (briefs/README-cli.md) is this list.
 */
class RunFlockCompatibilityTest {

    @TempDir
    Path dir;

    Path lock;

    @BeforeEach
    void needFlock() {
        assumeTrue(
                RunCommandTest.onPath("flock"), "flock(1) from util-linux is not installed; skipping the comparison");
        lock = dir.resolve("compat.lock");
    }

    @Test
    void onAFreeLockBothRunTheCommandAndExitWithItsStatus() throws Exception {
        String l = lock.toString();
        compare(0, l, "true");
        compare(3, l, "sh", "-c", "exit 3");
        compare(5, l, "-c", "exit 5");
        compare(0, "-s", l, "true");
        compare(0, "-x", l, "true");
        compare(0, "-e", l, "true");
        compare(0, "-w", "0.5", l, "true");
        compare(0, "--timeout", "5", l, "true");
        compare(0, "-o", l, "true");
        compare(0, "--close", l, "-c", "true");
        compare(7, "-E", "42", l, "-c", "exit 7");
        compare(143, l, "sh", "-c", "kill -TERM $$");
        compare(137, l, "-c", "kill -KILL $$");
    }

    /**
     * The {@code flock "$0"} idiom: a script that runs itself under a lock on itself. The script must start (a
     * file held open for writing cannot be executed: ETXTBSY), see its lock held, and stay byte for byte as it was.
     */
    @Test
    void aScriptThatLocksItselfRunsAndStaysUnchanged() throws Exception {
        Path script = dir.resolve("job.sh");
        String text = "#!/bin/sh\n"
                + "flock -n \"$0\" true && exit 9\n" // another open file of the script cannot take the lock
                + "exit 4\n";
        java.nio.file.Files.writeString(script, text);
        java.nio.file.Files.setPosixFilePermissions(
                script, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        byte[] before = java.nio.file.Files.readAllBytes(script);
        String s = script.toString();
        compare(4, s, s); // flock SCRIPT SCRIPT, lockcache run --provider flock SCRIPT SCRIPT
        compare(4, "-n", s, s);
        assertThat(java.nio.file.Files.readAllBytes(script)).isEqualTo(before);
        assertThat(java.nio.file.Files.isExecutable(script)).isTrue();
    }

    @Test
    void onALockHeldExclusivelyBothGiveUpWithTheConflictStatus() throws Exception {
        String l = lock.toString();
        try (Holder holder = Holder.flock(lock)) {
            compare(1, "-n", l, "true");
            compare(1, "--nonblock", l, "-c", "echo ran");
            compare(42, "-n", "-E", "42", l, "true");
            compare(9, "--nonblock", "--conflict-exit-code", "9", l, "true");
            compare(1, "-w", "0", l, "true");
            compare(1, "-w", "0.3", l, "true");
            compare(1, "-s", "-n", l, "true");
            compare(1, "-n", "-w", "5", l, "true"); // -n wins over -w in both
            compare(3, "-w", "0.2", "-E", "3", l, "true");
        }
    }

    @Test
    void onALockHeldSharedSharedJoinsAndExclusiveIsRefused() throws Exception {
        String l = lock.toString();
        try (Holder holder = Holder.flock(lock, "-s")) {
            compare(0, "-s", "-n", l, "true");
            compare(0, "--shared", "--nonblock", l, "-c", "exit 0");
            compare(1, "-x", "-n", l, "true");
            compare(1, "-n", l, "true");
        }
    }

    @Test
    void whereTheyDifferLockcacheUsesTheShellsStatuses() throws Exception {
        // flock(1) exits 69 (EX_UNAVAILABLE) when it cannot execute the command; lockcache uses the shell's
        // 127 (not found) and 126 (not executable), as its --help says
        assertThat(flock(lock.toString(), "no-such-command-here")).isNotZero();
        Cli.Result ours = Cli.run(dir, "run", "--provider", "flock", lock.toString(), "no-such-command-here");
        assertThat(ours.exit()).as(ours.toString()).isEqualTo(ExitCode.COMMAND_NOT_FOUND);
        Cli.Result notExecutable = Cli.run(dir, "run", "--provider", "flock", lock.toString(), dir.toString());
        assertThat(notExecutable.exit()).as(notExecutable.toString()).isEqualTo(ExitCode.COMMAND_NOT_EXECUTABLE);
        // -c with more than one argument is bad usage in both
        assertThat(flock(lock.toString(), "-c", "true", "extra")).isEqualTo(ExitCode.USAGE);
        Cli.Result extra = Cli.run(dir, "run", "--provider", "flock", lock.toString(), "-c", "true", "extra");
        assertThat(extra.exit()).as(extra.toString()).isEqualTo(ExitCode.USAGE);
    }

    /** Runs {@code flock ARGS} and {@code lockcache run --provider flock ARGS}; both must exit {@code expected}. */
    private void compare(int expected, String... args) throws IOException, InterruptedException {
        int utility = flock(args);
        List<String> ours = new ArrayList<>(List.of("run", "--provider", "flock"));
        ours.addAll(List.of(args));
        Cli.Result result = Cli.run(dir, ours.toArray(String[]::new));
        assertThat(utility).as("flock " + String.join(" ", args)).isEqualTo(expected);
        assertThat(result.exit())
                .as("lockcache run " + String.join(" ", args) + "\n" + result)
                .isEqualTo(expected);
    }

    static int flock(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("flock"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("SHELL", "/bin/sh"); // flock(1) runs -c through $SHELL; lockcache through /bin/sh
        Process p = builder.start();
        try {
            p.getOutputStream().close();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            assertThat(p.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            return p.exitValue();
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    /** A {@code flock(1)} process holding the lock until closed. */
    static final class Holder implements AutoCloseable {
        private final Process process;

        private Holder(Process process) {
            this.process = process;
        }

        static Holder flock(Path lock, String... options) throws IOException {
            List<String> command = new ArrayList<>(List.of("flock"));
            command.addAll(List.of(options));
            command.addAll(List.of(lock.toString(), "sh", "-c", "echo held; read line"));
            Process p = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            InputStream out = p.getInputStream();
            String first = new String(out.readNBytes(5), StandardCharsets.UTF_8);
            assertThat(first).as("flock(1) holder started").isEqualTo("held\n");
            return new Holder(p);
        }

        @Override
        public void close() throws IOException, InterruptedException {
            process.getOutputStream().write("done\n".getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().close();
            if (!process.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            process.waitFor();
        }
    }
}
