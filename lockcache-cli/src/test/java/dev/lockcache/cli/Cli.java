package dev.lockcache.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The CLI as a subprocess on the test class path: {@code java -cp <class path> dev.lockcache.cli.Main ...}.
 * Either run to completion ({@link #run}) or started and talked to line by line ({@link #start}); always
 * reaped.
 */
final class Cli implements AutoCloseable {

    /** A liveness bound for any one step, not a timing. */
    static final Duration PATIENCE = Duration.ofSeconds(90);

    record Result(int exit, String stdout, String stderr) {
        List<String> stderrLines() {
            return stderr.isEmpty() ? List.of() : List.of(stderr.split("\\R"));
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> transcript = Collections.synchronizedList(new ArrayList<>());
    private final BlockingQueue<String> errLines = new LinkedBlockingQueue<>();
    private final CompletableFuture<String> stderr;
    private final Thread pump;

    private Cli(Process process) {
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.stderr = new CompletableFuture<>();
        Thread errPump = new Thread(this::pumpStderr, "cli-stderr-" + process.pid());
        errPump.setDaemon(true);
        errPump.start();
        this.pump = new Thread(this::pumpStdout, "cli-stdout-" + process.pid());
        this.pump.setDaemon(true);
        this.pump.start();
    }

    /** Starts {@code lockcache args...} in {@code workDir} with extra environment variables. */
    static Cli start(Path workDir, Map<String, String> env, String... args) throws IOException {
        List<String> command = ChildJava.command(Main.class);
        Collections.addAll(command, args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().remove("LOCKCACHE_PROVIDER");
        builder.environment()
                .put(VerdictCache.DIR_ENV, workDir.resolve(".lockcache-state").toString());
        builder.environment().putAll(env);
        return new Cli(builder.start());
    }

    static Cli start(Path workDir, String... args) throws IOException {
        return start(workDir, Map.of(), args);
    }

    /**
     * Starts {@code lockcache run --lock LOCK [options] -- sh -c "echo held; read line"} and returns once it
     * holds the lock: a holder that releases when a line is sent (or its stdin closes).
     */
    static Cli holder(Path workDir, Path lock, String... options) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("run", "--lock", lock.toString()));
        Collections.addAll(args, options);
        args.addAll(List.of("--", "sh", "-c", "echo held; read line"));
        Cli cli = start(workDir, args.toArray(String[]::new));
        try {
            cli.expect("held");
            return cli;
        } catch (InterruptedException | RuntimeException | Error e) {
            cli.close();
            throw e;
        }
    }

    /** Runs {@code lockcache args...} to the end with an empty stdin. */
    static Result run(Path workDir, Map<String, String> env, String... args) throws IOException, InterruptedException {
        try (Cli cli = start(workDir, env, args)) {
            cli.stdin.close();
            return cli.awaitResult();
        }
    }

    static Result run(Path workDir, String... args) throws IOException, InterruptedException {
        return run(workDir, Map.of(), args);
    }

    void send(String line) throws IOException {
        stdin.write(line);
        stdin.write('\n');
        stdin.flush();
    }

    /** Waits for the next stdout line starting with {@code prefix}; earlier lines are skipped. */
    String expect(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
            if (line != null && line.equals(EOF)) {
                lines.add(EOF);
                process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
            if (line == null || line.equals(EOF)) {
                throw new AssertionError("lockcache did not print '" + prefix + "' (alive=" + process.isAlive()
                        + "); stdout " + transcript + ", stderr so far: "
                        + (process.isAlive() ? "(running)" : stderr.join()));
            }
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    /** Waits for the next stderr line containing {@code text}; earlier lines are skipped. */
    String expectErr(String text) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left <= 0 ? null : errLines.poll(left, TimeUnit.NANOSECONDS);
            if (line == null || line.equals(EOF)) {
                if (line != null) {
                    errLines.add(EOF);
                }
                throw new AssertionError("lockcache did not print '" + text + "' on stderr (alive=" + process.isAlive()
                        + "); stdout " + transcript);
            }
            if (line.contains(text)) {
                return line;
            }
        }
    }

    /** Waits for the process to end and collects everything it printed. */
    Result awaitResult() throws InterruptedException {
        if (!process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("lockcache did not exit; stdout " + transcript);
        }
        pump.join(TimeUnit.SECONDS.toMillis(10));
        StringBuilder out = new StringBuilder();
        synchronized (transcript) {
            transcript.forEach(l -> out.append(l).append('\n'));
        }
        return new Result(process.exitValue(), out.toString(), stderr.join());
    }

    /**
     * Waits for the lockcache process itself to end and returns its status, without waiting for its output
     * streams: a command that outlives it (a handed-over lock) still holds them open.
     */
    int awaitExit() throws InterruptedException {
        if (!process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("lockcache did not exit; stdout " + transcript);
        }
        return process.exitValue();
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // already gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    private static final String EOF = "\u0000EOF";

    private void pumpStdout() {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                transcript.add(line);
                lines.add(line);
            }
        } catch (IOException ignored) {
            // closed with the process
        } finally {
            lines.add(EOF);
        }
    }

    private void pumpStderr() {
        StringBuilder all = new StringBuilder();
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                all.append(line).append('\n');
                errLines.add(line);
            }
        } catch (IOException e) {
            all.append("(stderr unreadable: ").append(e).append(")");
        } finally {
            errLines.add(EOF);
            stderr.complete(all.toString());
        }
    }
}
