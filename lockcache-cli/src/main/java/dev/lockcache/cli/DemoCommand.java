package dev.lockcache.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lockcache demo}: the main job on an embedded default, with no network. A loopback HTTP server serves a
 * generated dataset of known SHA-256; N worker JVMs × T threads fetch it into one fresh cache at the same
 * moment; the report says how many callers there were, how many downloads the server counted (one), whether
 * every caller got identical verified bytes, which provider guarded the cache and why, and the wall time
 * against a single fetch.
 *
 * <p>With {@code --zookeeper} the workers lock through the {@code zookeeper} provider, with the cache root as the
 * base: on a 3-server ensemble the demo starts on loopback ({@link DemoEnsemble}, each server a JVM of its own), or
 * on the ensemble named. The report adds the ensemble: its connect string and its leader.
 */
@Command(
        name = "demo",
        sortOptions = false,
        description = {
            "Shows many processes fetching one dataset at once, and that it is downloaded exactly once.",
            "A loopback HTTP server serves a generated dataset; N worker processes of T threads each fetch it into"
                    + " one fresh cache at once; the report gives callers, downloads (1), identical bytes, provider"
                    + " and time.",
            "With --zookeeper the workers lock through ZooKeeper: on a 3-server ensemble the demo starts on loopback,"
                    + " or on the one named."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:Every caller got the same verified bytes from one download.",
            "1:The demo failed: a worker failed, or the workers disagreed.",
            "64:Bad usage: an unknown option or a malformed size."
        })
final class DemoCommand implements Callable<Integer> {

    /** A liveness bound for the workers' handshakes, not a timing. */
    private static final long PATIENCE_SECONDS = 300;

    /** The value of a bare {@code --zookeeper}: start an ensemble of our own. */
    static final String EMBEDDED = "embedded";

    @Spec
    CommandSpec spec;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "4", description = "Worker processes (default 4).")
    int workers;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "4", description = "Threads per worker (default 4).")
    int threads;

    @Option(
            names = "--size",
            paramLabel = "SIZE",
            converter = ByteSizeConverter.class,
            defaultValue = "16MiB",
            description = "Dataset size (default 16MiB).")
    long size;

    @Option(
            names = "--zookeeper",
            arity = "0..1",
            fallbackValue = EMBEDDED,
            paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Lock through the zookeeper provider: on a 3-server ensemble the demo starts on loopback"
                    + " (no value), or on this ensemble. Reports the ensemble and its leader.")
    String zookeeper;

    @Option(names = "--json", description = "Print one JSON object for scripts.")
    boolean json;

    /** The ensemble the workers lock on, and the root for this run's lock nodes; null without --zookeeper. */
    private String zooKeeperConnect;

    private String zooKeeperRoot;

    /** What the demo found; the stable {@code --json} fields. */
    record Report(
            int workers,
            int threads,
            int callers,
            int downloads,
            long bytes,
            long bytesServed,
            String sha256,
            boolean identical,
            String provider,
            String providerReason,
            long wallMillis,
            long singleFetchMillis,
            DemoEnsemble.Description zookeeper) {}

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (workers < 1 || threads < 1 || workers > 64 || threads > 64) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--workers and --threads must be between 1 and 64");
        }
        if (size < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--size must be at least 1 byte");
        }
        Path scratch = Files.createTempDirectory("lockcache-demo-");
        HttpServer server = null;
        ExecutorService serverThreads = Executors.newFixedThreadPool(4);
        DemoEnsemble ensemble = null;
        try {
            if (zookeeper != null) {
                if (zookeeper.strip().equals(EMBEDDED)) {
                    ensemble = DemoEnsemble.start(
                            Files.createDirectory(scratch.resolve("zookeeper")), Duration.ofSeconds(PATIENCE_SECONDS));
                    zooKeeperConnect = ensemble.connectString();
                } else if (zookeeper.isBlank()) {
                    throw new picocli.CommandLine.ParameterException(
                            spec.commandLine(), "--zookeeper needs HOST:PORT[,HOST:PORT...], or no value at all");
                } else {
                    zooKeeperConnect = zookeeper.strip();
                }
                zooKeeperRoot = "/lockcache-demo-" + Long.toHexString(new SplittableRandom().nextLong() >>> 16);
            }
            Path dataset = scratch.resolve("served.bin");
            String sha256 = generate(dataset, size);
            AtomicInteger downloads = new AtomicInteger();
            AtomicLong served = new AtomicLong();
            // the bytes the loopback server sends, drawn as a bar on a terminal while the workers fetch
            java.util.concurrent.atomic.AtomicReference<ProgressDisplay> progress =
                    new java.util.concurrent.atomic.AtomicReference<>();
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext(
                    "/" + DemoWorkerCommand.FILE_NAME,
                    exchange -> serve(exchange, dataset, downloads, served, progress.get()));
            server.setExecutor(serverThreads);
            server.start();
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/" + DemoWorkerCommand.FILE_NAME;

            Round single;
            try (ProgressDisplay bar = ProgressDisplay.forStderr()) {
                progress.set(bar);
                single = round(scratch.resolve("single"), url, sha256, 1, 1);
            }
            int singleDownloads = downloads.getAndSet(0);
            served.set(0);
            Round all;
            try (ProgressDisplay bar = ProgressDisplay.forStderr()) {
                progress.set(bar);
                all = round(scratch.resolve("all"), url, sha256, workers, threads);
            } finally {
                progress.set(null);
            }

            if (zooKeeperConnect != null && !all.provider().equals(ZooKeeperOption.PROVIDER)) {
                throw new CommandFailure(
                        ExitCode.FAILURE,
                        "demo failed: the workers locked with " + all.provider() + ", not " + ZooKeeperOption.PROVIDER);
            }
            DemoEnsemble.Description described = ensemble != null
                    ? ensemble.describe(zooKeeperRoot)
                    : zooKeeperConnect != null ? DemoEnsemble.describeExternal(zooKeeperConnect, zooKeeperRoot) : null;
            boolean identical = single.digests().stream().allMatch(sha256::equals)
                    && all.digests().size() == workers * threads
                    && all.digests().stream().allMatch(sha256::equals)
                    && all.sizes().stream().allMatch(s -> s == size);
            Report report = new Report(
                    workers,
                    threads,
                    workers * threads,
                    downloads.get(),
                    size,
                    served.get(),
                    sha256,
                    identical,
                    all.provider(),
                    all.providerReason(),
                    all.wallMillis(),
                    single.wallMillis(),
                    described);
            print(report);
            if (report.downloads() != 1 || !identical || singleDownloads != 1) {
                throw new CommandFailure(
                        ExitCode.FAILURE,
                        "demo failed: " + report.downloads() + " downloads for " + report.callers()
                                + " callers (expected 1)"
                                + (identical ? "" : ", and not every caller got the expected bytes"));
            }
            return ExitCode.OK;
        } finally {
            if (server != null) {
                server.stop(0);
            }
            serverThreads.shutdownNow();
            if (ensemble != null) {
                ensemble.close();
            }
            deleteTree(scratch);
        }
    }

    /** One round's results. */
    private record Round(
            List<String> digests, List<Long> sizes, String provider, String providerReason, long wallMillis) {}

    /** Starts the workers, waits until all are ready, starts them together, and collects their results. */
    private Round round(Path dir, String url, String sha256, int processes, int threadsEach)
            throws IOException, InterruptedException {
        Path cache = dir.resolve("cache");
        Path out = dir.resolve("work");
        Files.createDirectories(out);
        List<Process> children = new ArrayList<>();
        try {
            List<BufferedReader> outputs = new ArrayList<>();
            for (int i = 0; i < processes; i++) {
                Process child = new ProcessBuilder(workerCommand(url, sha256, cache, out, threadsEach, i))
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
                children.add(child);
                outputs.add(new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)));
            }
            String provider = "";
            String reason = "";
            for (int i = 0; i < processes; i++) {
                String line = expect(outputs.get(i), children.get(i), "provider ");
                String[] words = line.split(" ", 3);
                if (provider.isEmpty()) {
                    provider = words[1];
                    reason = words.length > 2 ? words[2] : "";
                } else if (!provider.equals(words[1])) {
                    throw new CommandFailure(
                            ExitCode.FAILURE, "workers chose different providers: " + provider + " and " + words[1]);
                }
                expect(outputs.get(i), children.get(i), "ready");
            }
            long start = System.nanoTime();
            for (Process child : children) {
                Writer go = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
                go.write("go\n");
                go.flush();
            }
            List<String> digests = new ArrayList<>();
            List<Long> sizes = new ArrayList<>();
            for (int i = 0; i < processes; i++) {
                for (String line; !(line = expect(outputs.get(i), children.get(i), "")).equals("done"); ) {
                    if (line.startsWith("result ")) {
                        String[] words = line.split(" ");
                        digests.add(words[2]);
                        sizes.add(Long.parseLong(words[3]));
                    }
                }
            }
            long wallMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            for (Process child : children) {
                if (!child.waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS) || child.exitValue() != 0) {
                    throw new CommandFailure(
                            ExitCode.FAILURE, "a demo worker did not finish cleanly (pid " + child.pid() + ")");
                }
            }
            return new Round(digests, sizes, provider, reason, wallMillis);
        } finally {
            for (Process child : children) {
                child.destroyForcibly();
                child.waitFor();
            }
        }
    }

    private static String expect(BufferedReader output, Process child, String prefix) throws IOException {
        for (String line; (line = output.readLine()) != null; ) {
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        throw new CommandFailure(
                ExitCode.FAILURE,
                "demo worker (pid " + child.pid() + ") ended before printing '" + prefix.strip()
                        + "'; its error is above (run with --verbose for more)");
    }

    private List<String> workerCommand(String url, String sha256, Path cache, Path out, int threadsEach, int id) {
        List<String> command = ChildJava.command(Main.class);
        if (zooKeeperConnect != null) {
            command.addAll(
                    1,
                    List.of(
                            "-D" + ZooKeeperOption.CONNECT_PROPERTY + "=" + zooKeeperConnect,
                            "-D" + ZooKeeperOption.BASE_PROPERTY + "=" + cache.toAbsolutePath(),
                            "-D" + ZooKeeperOption.ROOT_PROPERTY + "=" + zooKeeperRoot));
        }
        command.addAll(List.of(
                "demo-worker",
                "--url",
                url,
                "--sha256",
                sha256,
                "--size",
                Long.toString(size),
                "--cache",
                cache.toString(),
                "--out",
                out.toString(),
                "--threads",
                Integer.toString(threadsEach),
                "--id",
                Integer.toString(id)));
        if (zooKeeperConnect != null) {
            command.addAll(List.of("--provider", ZooKeeperOption.PROVIDER));
        }
        return command;
    }

    private void print(Report r) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode node = Json.tree(r);
            Json.print(out, node);
            return;
        }
        out.printf(
                "callers      %d (%d worker processes x %d threads, all started at once)%n",
                r.callers(), r.workers(), r.threads());
        out.printf("downloads    %d (counted by the server)%n", r.downloads());
        out.printf(
                "bytes        %s per caller, %s served%n",
                ByteSizeConverter.format(r.bytes()), ByteSizeConverter.format(r.bytesServed()));
        out.printf(
                "identical    %s (sha256 %s)%n",
                r.identical() ? "yes, every caller got the same verified bytes" : "NO", r.sha256());
        out.printf("provider     %s: %s%n", r.provider(), r.providerReason());
        if (r.zookeeper() != null) {
            DemoEnsemble.Description zk = r.zookeeper();
            out.printf(
                    "ensemble     %s%s%n",
                    zk.embedded() ? zk.servers() + " ZooKeeper servers started by the demo, one JVM each: " : "",
                    zk.connectString());
            out.printf("leader       %s; the workers' locks under %s%n", zk.leader(), zk.root());
        }
        out.printf(
                "wall time    %d ms for all callers, %d ms for a single fetch%n",
                r.wallMillis(), r.singleFetchMillis());
        out.flush();
    }

    /** Writes {@code size} reproducible pseudo-random bytes and returns their SHA-256. */
    private static String generate(Path file, long size) throws IOException {
        SplittableRandom random = new SplittableRandom(0x10c4cac4eL);
        byte[] block = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; ) {
                random.nextBytes(block);
                int n = (int) Math.min(block.length, left);
                out.write(block, 0, n);
                left -= n;
            }
        }
        return DemoWorkerCommand.digestOf(file);
    }

    private static void serve(
            HttpExchange exchange, Path dataset, AtomicInteger downloads, AtomicLong served, ProgressDisplay progress)
            throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            int download = downloads.incrementAndGet();
            long size = Files.size(dataset);
            exchange.sendResponseHeaders(200, size);
            String task = "served (download " + download + ")";
            byte[] chunk = new byte[256 * 1024];
            long sent = 0;
            try (InputStream in = Files.newInputStream(dataset);
                    OutputStream body = exchange.getResponseBody()) {
                for (int n; (n = in.read(chunk)) > 0; ) {
                    body.write(chunk, 0, n);
                    sent += n;
                    served.addAndGet(n);
                    if (progress != null) {
                        progress.onProgress(task, sent, java.util.OptionalLong.of(size));
                    }
                }
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                p.toFile().setWritable(true);
                Files.deleteIfExists(p);
            }
        }
    }
}
