package dev.lockcache.it;

import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.spi.LockProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** The outside tools the tests use, found or skipped with a message that names what to install. */
final class Tools {

    /** The kernel-lock providers every multi-process test covers. */
    static final List<String> KERNEL_PROVIDERS = List.of("flock", "nio", "ofd", "double");

    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final Path FLOCK = Path.of("/usr/bin/flock");

    private Tools() {}

    /** {@code /usr/bin/python3}, or the test is skipped. */
    static Path python() {
        requireExecutable(PYTHON, "python3 (Debian package python3)");
        return PYTHON;
    }

    /** util-linux {@code flock(1)}, or the test is skipped. */
    static Path flockCommand() {
        requireExecutable(FLOCK, "flock(1) (Debian package util-linux)");
        return FLOCK;
    }

    private static void requireExecutable(Path tool, String what) {
        if (!Files.isExecutable(tool)) {
            Assumptions.abort("needs " + what + " at " + tool + "; it is missing here");
        }
    }

    /**
     * The installed, available provider called {@code name}. These suites are about Linux kernels and tools:
     * elsewhere they are skipped; on Linux a missing or unavailable provider fails the test, so that CI cannot
     * pass by skipping.
     */
    static LockProvider provider(String name) {
        if (!System.getProperty("os.name").startsWith("Linux")) {
            Assumptions.abort("the integration suites run on Linux only, this is " + System.getProperty("os.name"));
        }
        LockProvider provider = LockProviders.named(name);
        if (!provider.availability().available()) {
            throw new AssertionError("provider " + name + " is unavailable on this Linux machine: "
                    + provider.availability().reason());
        }
        return provider;
    }

    /** Copies the test resource {@code name} (next to this class) into {@code dir} and returns its path. */
    static Path script(Path dir, String name) {
        try (InputStream in = Tools.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + name + " is missing from the class path");
            }
            Path target = dir.resolve(name);
            Files.copy(in, target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code command} to its end and returns its exit code (a liveness bound of a minute). */
    static int run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!process.waitFor(1, TimeUnit.MINUTES)) {
                throw new AssertionError(command + " did not finish within a minute");
            }
            return process.exitValue();
        } finally {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
