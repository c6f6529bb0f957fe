package dev.lockcache.lock.exclusive;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An {@link ExclusiveCreateChild} JVM, talked to line by line; always closed (killed and reaped). Handshakes
 * are bounded by a generous liveness limit, never timed.
 */
final class ChildProcess implements AutoCloseable {

    private static final long HANDSHAKE_SECONDS = 60;

    private final Process process;
    private final BufferedReader out;
    private final Writer in;

    private ChildProcess(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    /** Starts the child with {@code command} on {@code path}. */
    static ChildProcess start(String command, Path path, String... more) throws IOException {
        return new ChildProcess(new ProcessBuilder(javaCommand(command, path, more))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start());
    }

    /** Starts the child under a shell that first runs {@code shellPrefix} (for example a ulimit). */
    static ChildProcess startInShell(String shellPrefix, String command, Path path) throws IOException {
        StringBuilder line = new StringBuilder(shellPrefix).append("; exec");
        for (String word : javaCommand(command, path)) {
            line.append(" '").append(word.replace("'", "'\\''")).append('\'');
        }
        return new ChildProcess(new ProcessBuilder("bash", "-c", line.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start());
    }

    private static List<String> javaCommand(String command, Path path, String... more) {
        List<String> words = new ArrayList<>();
        words.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        words.add("-Xmx64m");
        words.add("-XX:TieredStopAtLevel=1");
        words.add("-XX:-UsePerfData");
        words.add("-cp");
        words.add(System.getProperty("java.class.path"));
        words.add(ExclusiveCreateChild.class.getName());
        words.add(command);
        words.add(path.toString());
        words.addAll(List.of(more));
        return words;
    }

    /** The next line the child prints; fails if it exits first. */
    String readLine() throws IOException {
        String line = out.readLine();
        if (line == null) {
            throw new AssertionError("child " + process.pid() + " ended without a line");
        }
        return line;
    }

    void send(String line) throws IOException {
        in.write(line + "\n");
        in.flush();
    }

    long pid() {
        return process.pid();
    }

    /** Kills the child with SIGKILL and reaps it. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    int awaitExit() throws InterruptedException {
        if (!process.waitFor(HANDSHAKE_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("child " + process.pid() + " did not exit");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        try {
            in.close();
        } catch (IOException ignored) {
            // already gone
        }
        if (!process.waitFor(HANDSHAKE_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        process.destroyForcibly();
        process.waitFor();
    }
}
