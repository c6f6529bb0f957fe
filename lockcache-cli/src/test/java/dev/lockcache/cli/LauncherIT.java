package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The packaged command as users run it: {@code bin/lockcache} over the shaded jar (built by {@code package},
 * before this runs in {@code integration-test}), on JDK 17 and JDK 25, installed with {@code bin/install}, and
 * drawing its progress bar on a real terminal (tmux) but never on a pipe.
 */
class LauncherIT {

    /** Where CI and this machine keep a JDK 25; the JDK 25 cases skip without it. */
    static final Path JDK25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");

    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final Path LAUNCHER = REPO.resolve("bin/lockcache");

    @TempDir
    Path dir;

    record Ran(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"this", "25"})
    void theLauncherPrintsNothingOnStderrOnJdk17And25(String jdk) throws Exception {
        Path javaHome = jdk.equals("this") ? Path.of(System.getProperty("java.home")) : JDK25;
        assumeTrue(Files.isExecutable(javaHome.resolve("bin/java")), "no JDK at " + javaHome);
        Map<String, String> env = Map.of(
                "JAVA_HOME",
                javaHome.toString(),
                "LOCKCACHE_CDS_DIR",
                dir.resolve("cds").toString());
        Path lock = dir.resolve("quiet.lock");
        for (int round = 0; round < 2; round++) { // the first makes the class-data-sharing archive, the second maps it
            Ran version = run(env, LAUNCHER.toString(), "--version");
            assertThat(version.exit()).as(version.toString()).isZero();
            assertThat(version.stdout()).startsWith("lockcache ").contains("Java " + (jdk.equals("25") ? "25" : ""));
            assertThat(version.stderr()).as(version.toString()).isEmpty();

            Ran held = run(env, LAUNCHER.toString(), "run", lock.toString(), "-c", "echo under the lock");
            assertThat(held.exit()).as(held.toString()).isZero();
            assertThat(held.stdout()).isEqualTo("under the lock\n");
            assertThat(held.stderr()).as(held.toString()).isEmpty();

            for (String provider : new String[] {"flock", "ofd", "nio"}) {
                Ran named = run(
                        env,
                        LAUNCHER.toString(),
                        "run",
                        "--provider",
                        provider,
                        "--lock",
                        dir.resolve(provider + ".lock").toString(),
                        "--",
                        "true");
                assertThat(named.exit()).as(provider + "\n" + named).isZero();
                assertThat(named.stderr()).as(provider + "\n" + named).isEmpty();
            }
        }
        try (var archives = Files.list(dir.resolve("cds"))) {
            assertThat(archives.map(p -> p.getFileName().toString()))
                    .as("one class-data-sharing archive for this java and jar")
                    .anyMatch(name -> name.endsWith(".jsa"));
        }
    }

    @Test
    void bin_installMakesALayoutThatRunsFromPath() throws Exception {
        Path prefix = dir.resolve("prefix");
        Ran installed = run(Map.of(), REPO.resolve("bin/install").toString(), prefix.toString());
        assertThat(installed.exit()).as(installed.toString()).isZero();
        assertThat(prefix.resolve("bin/lockcache")).isExecutable();
        try (var jars = Files.list(prefix.resolve("lib/lockcache"))) {
            assertThat(jars.map(p -> p.getFileName().toString()))
                    .singleElement()
                    .asString()
                    .endsWith("-all.jar");
        }
        Path link = dir.resolve("elsewhere/lockcache");
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, prefix.resolve("bin/lockcache"));
        Map<String, String> env = Map.of("LOCKCACHE_CDS", "off", "LOCKCACHE_JAR", "");
        Ran version = run(env, link.toString(), "--version");
        assertThat(version.exit()).as(version.toString()).isZero();
        assertThat(version.stdout()).startsWith("lockcache ");

        Ran usage = run(Map.of(), REPO.resolve("bin/install").toString());
        assertThat(usage.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(usage.stderr()).contains("usage: bin/install PREFIX");
    }

    @Test
    void theProgressBarIsDrawnOnATerminalAndNeverOnAPipe() throws Exception {
        assumeTrue(RunCommandTest.onPath("tmux"), "tmux is not installed; skipping the terminal test");
        byte[] data = new byte[8 << 20];
        new Random(3).nextBytes(data);
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));

        try (StallingServer server = new StallingServer(data, 1 << 20)) {
            String tmux = "lockcache-it-" + ProcessHandle.current().pid();
            Path cache = dir.resolve("cache-tty");
            String command = "LOCKCACHE_PROGRESS_AFTER=0s LOCKCACHE_CDS=off " + LAUNCHER + " fetch " + server.url()
                    + " --sha256 " + sha + " --cache " + cache + "; echo fetch-exit=$?; read line";
            Ran started = run(Map.of(), "tmux", "-L", tmux, "new-session", "-d", "-x", "150", "-y", "20", command);
            assertThat(started.exit()).as(started.toString()).isZero();
            try {
                server.awaitStalled();
                String pane = awaitPane(tmux, "MiB");
                assertThat(pane).as(pane).containsPattern("\\d+%").contains("MiB");
                server.release();
                String done = awaitPane(tmux, "fetch-exit=");
                assertThat(done).as(done).contains("fetch-exit=0");
            } finally {
                server.release();
                run(Map.of(), "tmux", "-L", tmux, "kill-server");
            }
        }

        try (StallingServer server = new StallingServer(data, 1 << 20)) {
            server.release();
            Ran piped = run(
                    Map.of("LOCKCACHE_PROGRESS_AFTER", "0s", "LOCKCACHE_CDS", "off"),
                    LAUNCHER.toString(),
                    "fetch",
                    server.url(),
                    "--sha256",
                    sha,
                    "--cache",
                    dir.resolve("cache-pipe").toString());
            assertThat(piped.exit()).as(piped.toString()).isZero();
            assertThat(piped.stderr())
                    .as("no bar when stderr is a pipe\n" + piped)
                    .isEmpty();
        }
    }

    @Test
    void theDemoDrawsTheServedBytesOnATerminal() throws Exception {
        assumeTrue(RunCommandTest.onPath("tmux"), "tmux is not installed; skipping the terminal test");
        String tmux = "lockcache-demo-it-" + ProcessHandle.current().pid();
        String command = "LOCKCACHE_PROGRESS_AFTER=0s LOCKCACHE_CDS=off " + LAUNCHER
                + " demo --workers 2 --threads 2 --size 8MiB; echo demo-exit=$?; read line";
        Ran started = run(Map.of(), "tmux", "-L", tmux, "new-session", "-d", "-x", "150", "-y", "40", command);
        assertThat(started.exit()).as(started.toString()).isZero();
        try {
            String done = awaitPane(tmux, "demo-exit=");
            assertThat(done).as(done).contains("demo-exit=0");
            // each round's bar is left on the screen at 100% when its download ends
            assertThat(done).as(done).containsPattern("served \\(download 1\\).*100%.*MiB");
            assertThat(done).as(done).contains("downloads    1");
        } finally {
            run(Map.of(), "tmux", "-L", tmux, "kill-server");
        }
    }

    /**
     * Polls the tmux pane until it shows {@code text}: the terminal is another process's screen, so there is no
     * event to wait on. The pause is the poll interval, not an ordering.
     */
    private static String awaitPane(String tmux, String text) throws Exception {
        long deadline = System.nanoTime() + Cli.PATIENCE.toNanos();
        String pane = "";
        while (System.nanoTime() < deadline) {
            pane = run(Map.of(), "tmux", "-L", tmux, "capture-pane", "-p").stdout();
            if (pane.contains(text)) {
                return pane;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the pane never showed '" + text + "':\n" + pane);
    }

    static Ran run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("launcher", ".out");
        Path err = Files.createTempFile("launcher", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(List.of(command))
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            builder.environment().remove("LOCKCACHE_PROVIDER");
            builder.environment().remove("LOCKCACHE_JAVA_OPTS");
            builder.environment().putAll(env);
            Process p = builder.start();
            if (!p.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw new AssertionError(String.join(" ", command) + " did not finish");
            }
            return new Ran(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** A loopback server whose one file sends {@code first} bytes, then stalls until released. */
    static final class StallingServer implements AutoCloseable {
        private final HttpServer server;
        private final CountDownLatch stalled = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        StallingServer(byte[] data, int first) throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/data.bin", exchange -> {
                exchange.sendResponseHeaders(200, data.length);
                try (OutputStream body = exchange.getResponseBody()) {
                    body.write(data, 0, first);
                    body.flush();
                    stalled.countDown();
                    released.await(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS);
                    body.write(data, first, data.length - first);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/data.bin";
        }

        void awaitStalled() throws InterruptedException {
            assertThat(stalled.await(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS))
                    .as("the download started")
                    .isTrue();
        }

        void release() {
            released.countDown();
        }

        @Override
        public void close() {
            released.countDown();
            server.stop(0);
        }
    }
}
