package dev.lockcache.cli;

import dev.lockcache.cache.DatasetCache;
import dev.lockcache.cache.DatasetSource;
import dev.lockcache.cache.DatasetSpec;
import dev.lockcache.lock.StrategyVerdict;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * One worker JVM of {@code lockcache demo} (hidden): builds the cache, prints {@code provider NAME REASON}
 * and {@code ready}, waits for a line on stdin, then fetches the dataset from T threads at once and prints
 * {@code result THREAD SHA256 BYTES} for each.
 */
@Command(name = "demo-worker", hidden = true, description = "One worker process of 'lockcache demo'.")
final class DemoWorkerCommand implements Callable<Integer> {

    static final String KEY = "demo-dataset";
    static final String FILE_NAME = "dataset.bin";

    @Spec
    CommandSpec spec;

    @Option(names = "--url", required = true)
    String url;

    @Option(names = "--sha256", required = true)
    String sha256;

    @Option(names = "--size", required = true)
    long size;

    @Option(names = "--cache", required = true)
    Path cache;

    @Option(names = "--out", required = true, description = "Directory for each caller's mirror.")
    Path out;

    @Option(names = "--threads", defaultValue = "1")
    int threads;

    @Option(names = "--id", defaultValue = "0")
    int id;

    @Option(names = "--provider", description = "Lock provider by name (default: the strategy's pick).")
    java.util.Optional<String> provider = java.util.Optional.empty();

    @Override
    public Integer call() throws IOException, InterruptedException {
        DatasetCache.Builder builder = DatasetCache.builder()
                .root(cache)
                .register(DatasetSpec.of(KEY, DatasetSource.url(url), FILE_NAME)
                        .withSha256(sha256)
                        .withSize(size));
        provider.ifPresent(builder::provider);
        DatasetCache datasets = builder.build();
        StrategyVerdict verdict = datasets.lockVerdict();
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.println("provider " + verdict.providerName() + " " + Main.oneLine(verdict.reason()));
        stdout.println("ready");
        stdout.flush();
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (stdin.readLine() == null) {
            return ExitCode.FAILURE; // the demo went away before the start
        }
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Path mirror = out.resolve("worker" + id + "-thread" + t + ".bin");
                int thread = t;
                results.add(pool.submit(() -> {
                    start.await();
                    Path got = datasets.fetch(KEY, mirror);
                    return "result " + thread + " " + digestOf(got) + " " + Files.size(got);
                }));
            }
            start.countDown();
            for (Future<String> result : results) {
                try {
                    stdout.println(result.get());
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException failure
                            ? failure
                            : new CommandFailure(ExitCode.FAILURE, "worker " + id + ": " + e.getCause(), e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
            datasets.close();
        }
        stdout.println("done");
        stdout.flush();
        return ExitCode.OK;
    }

    static String digestOf(Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
