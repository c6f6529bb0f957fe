package dev.lockcache.lock.testkit;

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
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM on this JVM's class path — or, through {@link #external}, any other child process (a shell tool, a
 * Python peer) — talked to through its standard streams: the test sends lines and waits for lines, so events are
 * ordered by handshakes, never by sleeping. Always close it (it is killed and reaped).
 */
public final class ChildJvm implements AutoCloseable {

    /** How long any single handshake may take before the test fails (a liveness bound, not a timing). */
    public static final Duration HANDSHAKE = Duration.ofSeconds(60);

    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> transcript = Collections.synchronizedList(new ArrayList<>());
    private final Thread reader;

    private ChildJvm(Process process) {
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.reader = new Thread(this::pump, "child-jvm-stdout-" + process.pid());
        this.reader.setDaemon(true);
        this.reader.start();
    }

    /** Starts {@code mainClass} with {@code args} in a child JVM; stderr goes to this JVM's stderr. */
    public static ChildJvm start(Class<?> mainClass, String... args) throws IOException {
        Process process = new ProcessBuilder(javaCommand(mainClass, args))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        return new ChildJvm(process);
    }

    /** The command line that {@link #start} runs, for callers that wrap it (in {@code sh -c 'ulimit ...'}). */
    public static List<String> javaCommand(Class<?> mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx128m");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Xshare:auto");
        if (Runtime.version().feature() >= 24) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        Collections.addAll(command, args);
        return command;
    }

    /**
     * Starts any {@code command} (not a JVM of ours: {@code flock(1)}, a Python script...); its standard error is
     * merged into what {@link #expect} reads.
     */
    public static ChildJvm external(List<String> command) throws IOException {
        return new ChildJvm(
                new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Starts {@link LockChild} with the provider named {@code provider} and a command. */
    public static ChildJvm lockChild(String provider, String... command) throws IOException {
        String[] args = new String[command.length + 1];
        args[0] = provider;
        System.arraycopy(command, 0, args, 1, command.length);
        return start(LockChild.class, args);
    }

    /** Sends one line to the child's standard input. */
    public void send(String line) throws IOException {
        stdin.write(line);
        stdin.write('\n');
        stdin.flush();
    }

    /**
     * Waits for the next line that starts with {@code prefix} and returns it; lines before it are skipped.
     *
     * @throws AssertionError if the child exits or the handshake takes longer than {@link #HANDSHAKE}
     */
    public String expect(String prefix) throws InterruptedException {
        return expectUnlessExit(prefix)
                .orElseThrow(() -> new AssertionError("child " + process.pid() + " exited (" + exitCode()
                        + ") before printing '" + prefix + "'; printed " + transcript));
    }

    /** Like {@link #expect}, but empty if the child ends first. */
    public Optional<String> expectUnlessExit(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + HANDSHAKE.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("child " + process.pid() + " did not print '" + prefix + "' within "
                        + HANDSHAKE + "; alive=" + process.isAlive() + ", printed " + transcript);
            }
            if (line.equals(EOF)) {
                return Optional.empty();
            }
            if (line.startsWith(prefix)) {
                return Optional.of(line);
            }
        }
    }

    /** Waits for the child to exit by itself and returns its exit code. */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(HANDSHAKE.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("child " + process.pid() + " did not exit; printed " + transcript);
        }
        return process.exitValue();
    }

    /** Kills the child at once (SIGKILL on POSIX) and reaps it. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    public long pid() {
        return process.pid();
    }

    /** Everything the child printed so far. */
    public List<String> transcript() {
        synchronized (transcript) {
            return List.copyOf(transcript);
        }
    }

    @Override
    public void close() throws InterruptedException {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // the child may be gone already
        }
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        reader.join(TimeUnit.SECONDS.toMillis(5));
    }

    private String exitCode() {
        return process.isAlive() ? "still running" : "exit " + process.exitValue();
    }

    private static final String EOF = "\u0000EOF";

    private void pump() {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                transcript.add(line);
                lines.add(line);
            }
        } catch (IOException ignored) {
            // stream closed with the process
        } finally {
            lines.add(EOF);
        }
    }
}
