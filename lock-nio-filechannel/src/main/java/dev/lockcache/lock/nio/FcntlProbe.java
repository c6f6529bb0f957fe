package dev.lockcache.lock.nio;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.KernelDirectory;
import dev.lockcache.lock.spi.KernelFile;
import dev.lockcache.lock.spi.KernelMechanism;
import dev.lockcache.lock.spi.ProbeFiles;
import dev.lockcache.lock.spi.ProbeResult;
import dev.lockcache.lock.spi.ProbeResult.Verdict;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Proves on a directory that POSIX {@code fcntl} locks (what {@code FileChannel.lock} takes) exclude between
 * processes: a short-lived child JVM locks a probe file, and this JVM's try must fail. Two channels of one
 * process never exclude each other (fcntl locks belong to the process), so a second process is the only honest
 * test. Verdicts are cached per file store. Shared by every provider that relies on fcntl locks ({@code nio},
 * the fcntl half of {@code double}). Thread-safe.
 */
final class FcntlProbe {

    private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(60);

    private final KernelMechanism mechanism;
    private final Map<Object, ProbeResult> verdicts = new ConcurrentHashMap<>();

    /** A probe that locks through {@code mechanism}. */
    FcntlProbe(KernelMechanism mechanism) {
        this.mechanism = mechanism;
    }

    /** The verdict for {@code directory}: EXCLUDES, DOES_NOT_EXCLUDE (the filesystem lies), or UNAVAILABLE. */
    ProbeResult probe(Path directory) {
        Path dir = directory.toAbsolutePath().normalize();
        String type = "unknown";
        Object storeKey = dir;
        try {
            FileStore store = Files.getFileStore(dir);
            type = store.type();
            storeKey = store;
        } catch (IOException e) {
            return new ProbeResult(dir, Verdict.UNAVAILABLE, type, "cannot read the file store of " + dir + ": " + e);
        }
        ProbeResult cached = verdicts.get(storeKey);
        if (cached != null) {
            return new ProbeResult(
                    dir, cached.verdict(), type, cached.reason() + " (cached for file store " + storeKey + ")");
        }
        ProbeResult result = probeNow(dir, type);
        if (result.verdict() != Verdict.UNAVAILABLE) {
            verdicts.put(storeKey, result);
        }
        return result;
    }

    private ProbeResult probeNow(Path dir, String type) {
        Path file = ProbeFiles.unique(dir, "fcntl");
        Process child;
        try {
            child = startChild(file);
        } catch (IOException | RuntimeException e) {
            return new ProbeResult(dir, Verdict.UNAVAILABLE, type, "cannot start a child JVM for the probe: " + e);
        }
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try {
                    return String.valueOf(out.readLine());
                } catch (IOException e) {
                    return "FAILED " + e;
                }
            });
            String said = line.get(CHILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (!said.equals("HELD")) {
                return new ProbeResult(
                        dir, Verdict.UNAVAILABLE, type, "the probe child could not lock " + file + ": " + said);
            }
            KernelFile ours = null;
            try (KernelDirectory handle = mechanism.openDirectory(dir)) {
                ours = handle.open(file.getFileName().toString(), KernelMechanism.OpenMode.READ_WRITE, 0);
                if (ours.tryLock(LockMode.EXCLUSIVE)) {
                    ours.unlock();
                    return new ProbeResult(
                            dir,
                            Verdict.DOES_NOT_EXCLUDE,
                            type,
                            "a child process held a FileChannel lock on " + file
                                    + " and this process could lock it as well: locks do not exclude here");
                }
            } finally {
                if (ours != null) {
                    ours.close(); // a probe file of its own: closing it drops no lock anyone holds
                }
            }
            return new ProbeResult(
                    dir,
                    Verdict.EXCLUDES,
                    type,
                    "a child process held a FileChannel lock on " + file + " and this process's try failed");
        } catch (IOException e) {
            return new ProbeResult(dir, Verdict.UNAVAILABLE, type, "cannot lock " + file + ": " + e);
        } catch (TimeoutException | ExecutionException e) {
            return new ProbeResult(
                    dir, Verdict.UNAVAILABLE, type, "the probe child did not answer within " + CHILD_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ProbeResult(dir, Verdict.UNAVAILABLE, type, "interrupted while probing");
        } finally {
            stop(child);
            ProbeFiles.remove(file);
        }
    }

    private static Process startChild(Path file) throws IOException {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        String classPath;
        try {
            classPath = Paths.get(FcntlProbeChild.class
                            .getProtectionDomain()
                            .getCodeSource()
                            .getLocation()
                            .toURI())
                    .toString();
        } catch (java.net.URISyntaxException | NullPointerException | SecurityException e) {
            throw new IOException("cannot tell where the nio provider's classes are", e);
        }
        List<String> command = List.of(
                java.toString(),
                "-Xmx32m",
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                classPath,
                FcntlProbeChild.class.getName(),
                file.toString());
        return new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    private static void stop(Process child) {
        try {
            child.getOutputStream().close();
            if (!child.waitFor(5, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                child.waitFor();
            }
        } catch (IOException e) {
            child.destroyForcibly();
        } catch (InterruptedException e) {
            child.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
