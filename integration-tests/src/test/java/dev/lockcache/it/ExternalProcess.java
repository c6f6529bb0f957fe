package dev.lockcache.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Any child process (a shell tool, a Python script) talked to through its standard streams, so events are
 * ordered by handshakes. Always close it: it is killed and reaped.
 */
final class ExternalProcess implements AutoCloseable {

    /** The longest any handshake may take before the test fails (a liveness bound, not a timing). */
    static final Duration HANDSHAKE = Duration.ofSeconds(60);

    private static final String EOF = "\u0000EOF";

    private final List<String> command;
    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> transcript = Collections.synchronizedList(new ArrayList<>());

    private ExternalProcess(List<String> command, Process process) {
        this.command = List.copyOf(command);
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::pump, "external-stdout-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code command}; its standard error is merged into what {@link #expect} reads. */
    static ExternalProcess start(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new ExternalProcess(command, process);
    }

    /** Sends one line to standard input. */
    void send(String line) throws IOException {
        stdin.write(line);
        stdin.write('\n');
        stdin.flush();
    }

    /** Waits for the next line starting with {@code prefix}; earlier lines are skipped. */
    String expect(String prefix) throws InterruptedException {
        return expectUnlessExit(prefix)
                .orElseThrow(() -> new AssertionError(
                        command + " exited before printing '" + prefix + "'; printed " + transcript));
    }

    /** Like {@link #expect}, but empty if the process ends first. */
    Optional<String> expectUnlessExit(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + HANDSHAKE.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError(
                        command + " did not print '" + prefix + "' within " + HANDSHAKE + "; printed " + transcript);
            }
            if (line.equals(EOF)) {
                return Optional.empty();
            }
            if (line.startsWith(prefix)) {
                return Optional.of(line);
            }
        }
    }

    /** Waits for the process to exit by itself; returns its exit code. */
    int awaitExit() throws InterruptedException {
        if (!process.waitFor(HANDSHAKE.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError(command + " did not exit; printed " + transcript);
        }
        return process.exitValue();
    }

    /** Everything printed so far. */
    List<String> transcript() {
        synchronized (transcript) {
            return List.copyOf(transcript);
        }
    }

    @Override
    public void close() throws InterruptedException {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // already gone
        }
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    private void pump() {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                transcript.add(line);
                lines.add(line);
            }
        } catch (IOException ignored) {
            // closed with the process
        } finally {
            lines.add(EOF);
        }
    }
}
