package dev.lockcache.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * strace(1) attached to a running child ({@code strace -f -p PID -e inject=...}), for faults that must start
 * only once the child is up (after its provider checked that its mechanism works). Detaches when closed.
 */
final class Strace implements AutoCloseable {

    private final Process process;
    private final Path log;

    private Strace(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Attaches to every thread of {@code child} and returns once they are all traced: strace reports {@code
     * Process PID attached with N threads} after attaching the last one.
     */
    static Strace attach(Scripted child, String syscalls, String fault, Path log)
            throws IOException, InterruptedException {
        Process process = new ProcessBuilder(
                        Tools.strace().toString(),
                        "-f",
                        "-p",
                        Long.toString(child.pid()),
                        "-o",
                        log.toString(),
                        "-e",
                        "trace=" + syscalls,
                        "-e",
                        "inject=" + syscalls + ":" + fault)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        String wanted = "Process " + child.pid() + " attached";
        BufferedReader stderr =
                new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = stderr.readLine()) != null) {
            if (line.contains(wanted)) {
                Thread drain = new Thread(() -> drain(stderr), "strace-stderr");
                drain.setDaemon(true);
                drain.start();
                return new Strace(process, log);
            }
        }
        process.waitFor();
        throw new AssertionError("strace did not attach to " + child.pid() + " (exit " + process.exitValue() + ")");
    }

    private static void drain(BufferedReader stderr) {
        try {
            while (stderr.readLine() != null) {
                // strace's attach and detach notices
            }
        } catch (IOException ignored) {
            // strace ended
        }
    }

    /** System calls strace has marked as injected (failed or delayed) so far. */
    long injected() throws IOException {
        return injected(List.of(log));
    }

    /** How many system calls strace marked as injected or delayed in {@code logs}. */
    static long injected(List<Path> logs) throws IOException {
        long count = 0;
        for (Path log : logs) {
            if (Files.exists(log)) {
                try (Stream<String> lines = Files.lines(log)) {
                    count += lines.filter(l -> l.endsWith("(INJECTED)") || l.endsWith("(DELAYED)"))
                            .count();
                }
            }
        }
        return count;
    }

    /** Detaches (strace leaves its tracees running when it gets SIGTERM) and reaps strace. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
