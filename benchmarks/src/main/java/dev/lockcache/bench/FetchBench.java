package dev.lockcache.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.lockcache.cache.DatasetCache;
import dev.lockcache.cache.DatasetSource;
import dev.lockcache.cache.DatasetSpec;
import dev.lockcache.cache.FetchPolicy;
import dev.lockcache.cache.HttpTimeouts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fetch half of issue 13's speed table, every ratio from one run: one 256 MiB fetch through the CLI end to
 * end against {@code curl -o} + {@code sha256sum} + {@code sync} of the same bytes from the same loopback server;
 * 16 callers (4 JVMs × 4 threads) of 64 MiB against one caller alone (through {@link Harness#fetch}); a download
 * killed with SIGKILL at 60% and 90% and resumed by another process (bytes the server sent for the resume); the
 * in-process warm hit with a hard-link mirror (median of many calls).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.lockcache.bench.FetchBench --cli CLI_JAR [--rounds 3] [--out FILE]
 * </pre>
 *
 * The CLI is run as {@code java -cp cache-core-classes:CLI_JAR dev.lockcache.cli.Main fetch URL --sha256 X --cache
 * FRESH} with the launcher's flags, or through {@code --launcher bin/lockcache} when given.
 */
public final class FetchBench {

    private static final String CLI_MAIN = "dev.lockcache.cli.Main";
    /** The figures {@code --figures} can name (comma-separated); all by default. */
    private static final String[] FIGURES = {"end-to-end", "concurrent", "resume", "warm"};

    private FetchBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("child-fetch")) {
            childFetch(Path.of(args[1]), args[2], args[3]);
            return;
        }
        if (args.length > 0 && args[0].equals("child-concurrent")) {
            childConcurrent(
                    Path.of(args[1]),
                    Path.of(args[2]),
                    Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]),
                    args[6],
                    Long.parseLong(args[7]),
                    Preparation.valueOf(args[8]));
            return;
        }
        String cli = null;
        String launcher = null;
        String extraClasses = null;
        int rounds = 3;
        Path out = null;
        Set<String> figures = Set.of(FIGURES);
        Preparation preparation = Preparation.SET_UP;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cli" -> cli = args[++i];
                case "--launcher" -> launcher = args[++i];
                case "--classes" -> extraClasses = args[++i];
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--figures" -> figures = Set.of(args[++i].split(","));
                case "--lazy-setup" -> preparation = Preparation.LAZY;
                case "--warm-up" -> preparation = Preparation.WARM_UP;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory("lockcache-fetchbench-");
        List<String> rows = new ArrayList<>();
        rows.add("| figure | lockcache | baseline | ratio | target | met |");
        rows.add("| --- | --- | --- | --- | --- | --- |");
        try {
            if ((cli != null || launcher != null) && figures.contains("end-to-end")) {
                endToEnd(dir, cli, launcher, extraClasses, rounds, rows);
            }
            if (figures.contains("concurrent")) {
                concurrent(dir, rounds, preparation, rows);
            }
            if (figures.contains("resume")) {
                for (int percent : new int[] {60, 90}) {
                    resume(dir, percent, rows);
                }
            }
            if (figures.contains("warm")) {
                warmHit(dir, rows);
            }
        } finally {
            deleteTree(dir);
        }
        String table = String.join("\n", rows) + "\n";
        System.out.print(table);
        if (out != null) {
            Files.writeString(out, table);
        }
    }

    private static void endToEnd(
            Path dir, String cli, String launcher, String extraClasses, int rounds, List<String> rows)
            throws Exception {
        byte[] body = random(256 << 20, 7);
        String sha = sha256(body);
        try (RangeFetchServer server = new RangeFetchServer(body)) {
            String url = server.uri().toString();
            double[] curl = new double[rounds];
            double[] ours = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                // alternate, so that both see the same machine load
                Path file = dir.resolve("curl-" + r + ".bin");
                curl[r] = timed(List.of(
                        "sh",
                        "-c",
                        "curl -sS -o '" + file + "' '" + url + "' && sha256sum '" + file + "' >/dev/null && sync"));
                Files.deleteIfExists(file);
                List<String> command = new ArrayList<>();
                if (launcher != null) {
                    command.add(launcher);
                } else {
                    command.add(Path.of(System.getProperty("java.home"), "bin", "java")
                            .toString());
                    command.add("--add-opens");
                    command.add("java.base/java.io=ALL-UNNAMED");
                    command.add("-cp");
                    command.add((extraClasses != null ? extraClasses + ":" : "") + cli);
                    command.add(CLI_MAIN);
                }
                command.addAll(List.of(
                        "fetch",
                        url,
                        "--sha256",
                        sha,
                        "--cache",
                        dir.resolve("cli-" + r).toString()));
                ours[r] = timed(command);
                deleteTree(dir.resolve("cli-" + r));
                System.err.printf(Locale.ROOT, "end to end round %d: cli %.2f s, curl %.2f s%n", r, ours[r], curl[r]);
            }
            double c = median(curl);
            double o = median(ours);
            rows.add(row(
                    "one caller, 256 MiB, CLI end to end (median of " + rounds + ")",
                    o + " s",
                    c + " s",
                    o / c,
                    "≤ 1.2×",
                    o <= 1.2 * c));
        }
    }

    /** What a JVM of the concurrent figure does before it says it is ready. */
    enum Preparation {
        /** Nothing: the first fetch sets the cache up after the go signal (the figure as measured before). */
        LAZY("lock set-up after the signal"),
        /** Builds its cache and sets it up ({@link DatasetCache#lockVerdict()}), then lets its JIT settle. */
        SET_UP("each JVM set up before it"),
        /** As {@link #SET_UP}, plus one fetch of another (local, 4 KiB) dataset: the fetch code is loaded and warm. */
        WARM_UP("each JVM set up and warmed up by another fetch before it");

        final String description;

        Preparation(String description) {
            this.description = description;
        }
    }

    /**
     * 16 callers (4 JVMs x 4 threads) against one caller (1 JVM x 1 thread), measured alike: every JVM starts,
     * builds its cache, prepares as {@code preparation} says and only then says it is ready; the clock starts when
     * all are ready, at one go signal, and stops when the last thread of the last JVM has its file. With {@link
     * Preparation#SET_UP} neither side pays a JVM start or the lock set-up (the root, the lock directory, the
     * strategy's probe, the provider) inside the window, and each JVM's JIT has finished compiling what the set-up
     * made hot; {@link Preparation#LAZY} is the figure as measured before, where four JVMs set up at once on two
     * cores after the signal.
     */
    private static void concurrent(Path dir, int rounds, Preparation preparation, List<String> rows) throws Exception {
        int bytes = 64 << 20;
        double[] alone = new double[rounds];
        double[] many = new double[rounds];
        int downloads = 0;
        for (int r = 0; r < rounds; r++) {
            // alternate, so that both see the same machine load
            ConcurrentRun one = concurrentRun(dir, 1, 1, bytes, preparation);
            ConcurrentRun m = concurrentRun(dir, 4, 4, bytes, preparation);
            alone[r] = one.wallNanos() / 1e9;
            many[r] = m.wallNanos() / 1e9;
            downloads = Math.max(downloads, m.downloads());
            System.err.printf(
                    Locale.ROOT,
                    "concurrent round %d: alone %.3f s, 16 callers %.3f s (first caller done %.3f s, last waiter %.0f"
                            + " ms after it), %d download(s); CPU per JVM in the window: alone %s, 16 callers %s; of its busiest"
                            + " fetching thread: alone %s, 16 callers %s%n",
                    r,
                    alone[r],
                    many[r],
                    m.firstNanos() / 1e9,
                    (m.wallNanos() - m.firstNanos()) / 1e6,
                    m.downloads(),
                    millis(one.cpuNanos()),
                    millis(m.cpuNanos()),
                    millis(one.busiestThreadNanos()),
                    millis(m.busiestThreadNanos()));
        }
        double a = median(alone);
        double m = median(many);
        rows.add(row(
                "16 callers (4 JVMs × 4 threads), 64 MiB, from one go signal to the last file, "
                        + preparation.description + " (median of " + rounds + ")",
                String.format(Locale.ROOT, "%.3f s", m),
                String.format(Locale.ROOT, "%.3f s (one caller alone, measured alike)", a),
                m / a,
                "≤ 1.3×",
                m <= 1.3 * a));
        rows.add(row(
                "most downloads in one of those runs",
                Integer.toString(downloads),
                "",
                Double.NaN,
                "exactly 1",
                downloads == 1));
    }

    /**
     * One concurrent run's figures, from the go signal: the last thread's file, the first thread's file (the
     * downloader's, in practice), and the downloads the server served.
     */
    private record ConcurrentRun(
            long wallNanos, long firstNanos, int downloads, long[] cpuNanos, long[] busiestThreadNanos) {}

    private static final int READY = 0;
    private static final int GO = 1;

    private static int lastDone(int jvm) {
        return 2 + 2 * jvm;
    }

    private static int firstDone(int jvm) {
        return 3 + 2 * jvm;
    }

    /** CPU nanoseconds child {@code jvm} used from the go signal to its last file (all its threads, JIT and GC too). */
    private static int cpuInWindow(int jvms, int jvm) {
        return 2 + 2 * jvms + jvm;
    }

    /** CPU nanoseconds of child {@code jvm}'s busiest fetching thread (the downloader's, in its JVM). */
    private static int busiestThreadCpu(int jvms, int jvm) {
        return 2 + 3 * jvms + jvm;
    }

    private static int slots(int jvms) {
        return 2 + 4 * jvms;
    }

    private static ConcurrentRun concurrentRun(Path dir, int jvms, int threads, int bytes, Preparation preparation)
            throws Exception {
        Path run = Files.createTempDirectory(dir, "concurrent-" + jvms + "x" + threads + "-");
        Path boardFile = run.resolve("board");
        List<Process> children = new ArrayList<>();
        try (FetchServer server = new FetchServer(bytes);
                SharedBoard board = SharedBoard.map(boardFile, slots(jvms))) {
            for (int i = 0; i < jvms; i++) {
                List<String> command = Harness.javaCommand();
                command.addAll(List.of(
                        FetchBench.class.getName(),
                        "child-concurrent",
                        boardFile.toString(),
                        run.resolve("cache").toString(),
                        Integer.toString(i),
                        Integer.toString(threads),
                        Integer.toString(jvms),
                        server.uri().toString(),
                        Integer.toString(bytes),
                        preparation.name()));
                children.add(new ProcessBuilder(command)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(run.resolve("child-" + i + ".err").toFile())
                        .start());
            }
            while (board.get(READY) < jvms) {
                for (Process p : children) {
                    if (!p.isAlive()) {
                        throw new IllegalStateException(
                                "a fetch child exited with " + p.exitValue() + " before it was ready; see " + run);
                    }
                }
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            long go = System.nanoTime();
            board.set(GO, go);
            for (Process p : children) {
                if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                    throw new IllegalStateException("a fetch child failed; see " + run);
                }
            }
            long last = go;
            long first = Long.MAX_VALUE;
            long[] cpu = new long[jvms];
            long[] busiest = new long[jvms];
            for (int i = 0; i < jvms; i++) {
                busiest[i] = board.get(busiestThreadCpu(jvms, i));
                last = Math.max(last, board.get(lastDone(i)));
                first = Math.min(first, board.get(firstDone(i)));
                cpu[i] = board.get(cpuInWindow(jvms, i));
            }
            return new ConcurrentRun(last - go, first - go, server.downloads(), cpu, busiest);
        } finally {
            for (Process p : children) {
                p.destroyForcibly();
                p.waitFor();
            }
            deleteTree(run);
        }
    }

    /** Child side of the concurrent scenario: prepare, say ready, wait for the go signal, fetch in threads. */
    private static void childConcurrent(
            Path boardFile, Path root, int index, int threads, int jvms, String uri, long size, Preparation preparation)
            throws Exception {
        try (SharedBoard board = SharedBoard.map(boardFile, slots(jvms))) {
            DatasetCache cache = DatasetCache.builder()
                    .root(root)
                    .register(DatasetSpec.of("bench", DatasetSource.url(URI.create(uri)), "dataset.bin")
                            .withSize(size))
                    .defaultPolicy(FetchPolicy.IF_MISSING)
                    .build();
            if (preparation != Preparation.LAZY) {
                cache.lockVerdict(); // root, lock directory, strategy probe, provider: what building a cache costs
            }
            if (preparation == Preparation.WARM_UP) {
                Path source = Files.write(root.resolveSibling("warm-up-" + index + ".bin"), new byte[4096]);
                cache.register(DatasetSpec.of("warm-up-" + index, DatasetSource.file(source), "warm-up.bin"));
                cache.fetch("warm-up-" + index);
                cache.fetch("warm-up-" + index);
            }
            if (preparation != Preparation.LAZY) {
                settleJit();
            }
            long[] done = new long[threads];
            long[] threadCpu = new long[threads];
            Throwable[] failure = new Throwable[1];
            List<Thread> workers = new ArrayList<>();
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(threads);
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                int slot = t;
                Thread worker = new Thread(() -> {
                    try {
                        started.countDown();
                        go.await();
                        long cpuStart = java.lang.management.ManagementFactory.getThreadMXBean()
                                .getCurrentThreadCpuTime();
                        Path entry = cache.fetch("bench");
                        done[slot] = System.nanoTime();
                        threadCpu[slot] = java.lang.management.ManagementFactory.getThreadMXBean()
                                        .getCurrentThreadCpuTime()
                                - cpuStart;
                        if (Files.size(entry) != size) {
                            throw new IllegalStateException(
                                    entry + " has " + Files.size(entry) + " bytes, not " + size);
                        }
                    } catch (Throwable e) {
                        synchronized (failure) {
                            failure[0] = e;
                        }
                    }
                });
                workers.add(worker);
                worker.start();
            }
            started.await();
            board.add(READY, 1);
            // a coarse poll (0.2 ms), so that four waiting JVMs do not keep two cores busy up to the signal
            long waitStart = System.nanoTime();
            while (board.get(GO) == 0) {
                if (System.nanoTime() - waitStart > TimeUnit.MINUTES.toNanos(5)) {
                    throw new IllegalStateException("no go signal within 5 minutes");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            }
            long cpuAtGo = processCpuNanos();
            go.countDown();
            for (Thread worker : workers) {
                worker.join();
            }
            board.set(cpuInWindow(jvms, index), processCpuNanos() - cpuAtGo);
            board.set(
                    busiestThreadCpu(jvms, index),
                    Arrays.stream(threadCpu).max().orElseThrow());
            synchronized (failure) {
                if (failure[0] != null) {
                    throw new IllegalStateException("a fetching thread failed", failure[0]);
                }
            }
            board.set(firstDone(index), Arrays.stream(done).min().orElseThrow());
            board.set(lastDone(index), Arrays.stream(done).max().orElseThrow());
        }
    }

    private static void resume(Path dir, int percent, List<String> rows) throws Exception {
        int size = 256 << 20;
        byte[] body = random(size, percent);
        String sha = sha256(body);
        Path root = dir.resolve("resume-" + percent);
        long cut = (long) size * percent / 100;
        try (RangeFetchServer server = new RangeFetchServer(body)) {
            server.stallAt.set(cut);
            List<String> command = Harness.javaCommand();
            command.addAll(List.of(
                    FetchBench.class.getName(),
                    "child-fetch",
                    root.toString(),
                    server.uri().toString(),
                    sha));
            Process child =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            try (BufferedReader lines =
                    new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("progress ") && Long.parseLong(line.substring(9)) >= cut - (256 << 10)) {
                        break;
                    }
                }
            } finally {
                child.destroyForcibly();
                child.waitFor();
            }
            server.release();
            long before = server.sent.get();
            DatasetCache cache = cache(root, server.uri(), sha);
            cache.fetch("big");
            long resumed = server.sent.get() - before;
            double share = (double) resumed / size;
            System.err.printf(Locale.ROOT, "resume after a kill at %d%%: %.1f%% transferred%n", percent, 100 * share);
            double limit = percent == 60 ? 0.45 : 0.15;
            rows.add(row(
                    "resume after a kill at " + percent + "%, 256 MiB: bytes the second fetch transferred",
                    String.format(Locale.ROOT, "%.1f%%", 100 * share),
                    "100% (no resume)",
                    share,
                    String.format(Locale.ROOT, "≤ %.0f%%", 100 * limit),
                    share <= limit));
        }
    }

    private static void warmHit(Path dir, List<String> rows) throws Exception {
        Path source = Files.write(dir.resolve("warm-source.bin"), new byte[4096]);
        DatasetCache cache = DatasetCache.builder()
                .root(dir.resolve("warm-root"))
                .register(DatasetSpec.of("warm", DatasetSource.file(source), "data.bin"))
                .defaultPolicy(FetchPolicy.IF_MISSING)
                .build();
        Path mirror = dir.resolve("warm-work/data.bin");
        cache.fetch("warm", mirror);
        for (int i = 0; i < 50_000; i++) {
            cache.fetch("warm", mirror);
        }
        long[] samples = new long[200_000];
        for (int i = 0; i < samples.length; i++) {
            long t = System.nanoTime();
            cache.fetch("warm", mirror);
            samples[i] = System.nanoTime() - t;
        }
        Arrays.sort(samples);
        double median = samples[samples.length / 2] / 1e3;
        double p99 = samples[samples.length * 99 / 100] / 1e3;
        System.err.printf(Locale.ROOT, "warm hit: median %.2f µs, p99 %.2f µs%n", median, p99);
        rows.add(row(
                "warm hit in-process, hard-link mirror, median (p99 " + String.format(Locale.ROOT, "%.1f", p99)
                        + " µs)",
                String.format(Locale.ROOT, "%.2f µs", median),
                "",
                Double.NaN,
                "≤ 10 µs",
                median <= 10));
    }

    /** Child side of the resume scenario: fetch, printing the partial file's growth. */
    private static void childFetch(Path root, String uri, String sha) {
        DatasetCache cache = cache(root, URI.create(uri), sha);
        cache.fetch("big", cache.defaultOptions().withProgress((key, bytes, total) -> {
            System.out.println("progress " + bytes);
            System.out.flush();
        }));
    }

    private static DatasetCache cache(Path root, URI uri, String sha) {
        return DatasetCache.builder()
                .root(root)
                .httpTimeouts(HttpTimeouts.of(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofMinutes(10)))
                .register(
                        DatasetSpec.of("big", DatasetSource.url(uri), "big.bin").withSha256(sha))
                .build();
    }

    /**
     * Waits (at most 10 s) until this JVM's JIT has compiled nothing for 200 ms: what the set-up made hot is compiled
     * before the window opens rather than inside it, on the cores the download needs.
     */
    private static String millis(long[] nanos) {
        return Arrays.stream(nanos)
                .mapToObj(n -> String.format(Locale.ROOT, "%.0f ms", n / 1e6))
                .toList()
                .toString();
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static void settleJit() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long last = jit.getTotalCompilationTime();
        int quiet = 0;
        while (quiet < 4 && System.nanoTime() - end < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            long now = jit.getTotalCompilationTime();
            quiet = now == last ? quiet + 1 : 0;
            last = now;
        }
    }

    private static String row(String figure, String ours, String base, double ratio, String target, boolean met) {
        String r = Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "%.2f", ratio);
        return "| " + figure + " | " + ours + " | " + base + " | " + r + " | " + target + " | "
                + (met ? "yes" : "**no**") + " |";
    }

    private static String secs(long nanos) {
        return String.format(Locale.ROOT, "%.3f s", nanos / 1e9);
    }

    private static double timed(List<String> command) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(command + " failed");
        }
        return Math.round((System.nanoTime() - start) / 1e6) / 1e3;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.compareTo(a)).toList()) {
                p.toFile().setWritable(true);
                Files.deleteIfExists(p);
            }
        }
    }

    /** Loopback server of one body with ETag and Range support; can stall once at a byte; counts body bytes sent. */
    static final class RangeFetchServer implements AutoCloseable {
        private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");
        final AtomicLong sent = new AtomicLong();
        final AtomicLong stallAt = new AtomicLong(-1);
        private final java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
        private final HttpServer server;
        private final ExecutorService executor = Executors.newFixedThreadPool(4);
        private final byte[] body;

        RangeFetchServer(byte[] body) throws IOException {
            this.body = body;
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.createContext("/dataset.bin", this::handle);
            server.setExecutor(executor);
            server.start();
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/dataset.bin");
        }

        void release() {
            released.countDown();
        }

        private void handle(HttpExchange exchange) throws IOException {
            try (exchange) {
                exchange.getResponseHeaders().set("ETag", "\"bench\"");
                exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
                String range = exchange.getRequestHeaders().getFirst("Range");
                String ifRange = exchange.getRequestHeaders().getFirst("If-Range");
                Matcher m = range == null ? null : RANGE.matcher(range);
                long from = 0;
                if (m != null && m.matches() && (ifRange == null || ifRange.equals("\"bench\""))) {
                    from = Long.parseLong(m.group(1));
                    exchange.getResponseHeaders()
                            .set("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
                    exchange.sendResponseHeaders(206, body.length - from);
                } else {
                    exchange.sendResponseHeaders(200, body.length);
                }
                long stall = stallAt.getAndSet(-1);
                long end = stall >= 0 ? stall : body.length;
                OutputStream out = exchange.getResponseBody();
                for (long at = from; at < end; ) {
                    int n = (int) Math.min(1 << 20, end - at);
                    out.write(body, (int) at, n);
                    at += n;
                    sent.addAndGet(n);
                }
                out.flush();
                if (stall >= 0) {
                    try {
                        released.await(10, TimeUnit.MINUTES);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return; // drop the connection short of the length
                }
                out.close();
            } catch (IOException e) {
                // the client went away (the killed child)
            }
        }

        @Override
        public void close() {
            released.countDown();
            server.stop(0);
            executor.shutdownNow();
        }
    }
}
