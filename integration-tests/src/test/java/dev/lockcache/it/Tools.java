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

    static final Path STRACE = Path.of("/usr/bin/strace");
    static final Path UNSHARE = Path.of("/usr/bin/unshare");
    static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    static final Path USERADD = Path.of("/usr/sbin/useradd");
    static final Path FAKETIME_LIBRARY = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");

    private Tools() {}

    /** strace(1) with fault injection, or the test is skipped. */
    static Path strace() {
        requireExecutable(STRACE, "strace (Debian package strace)");
        return STRACE;
    }

    /**
     * unshare(1) with the right to make a private mount namespace and mount in it (root here and in CI), or the
     * test is skipped.
     */
    static Path unshareMount() throws IOException, InterruptedException {
        requireExecutable(UNSHARE, "unshare(1) (Debian package util-linux)");
        if (run(List.of(UNSHARE.toString(), "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt")) != 0) {
            Assumptions.abort("needs the right to mount in a private mount namespace (unshare -m as root);"
                    + " 'unshare -m mount -t tmpfs' failed here");
        }
        return UNSHARE;
    }

    /** libfaketime's preload library, or the test is skipped. */
    static Path faketimeLibrary() {
        if (!Files.isReadable(FAKETIME_LIBRARY)) {
            Assumptions.abort("needs libfaketime at " + FAKETIME_LIBRARY + " (Debian package libfaketime)");
        }
        return FAKETIME_LIBRARY;
    }

    /** Whether this process is root (the privileged suites need it to make accounts, mounts and traces). */
    static void requireRoot(String why) {
        if (!"root".equals(System.getProperty("user.name"))) {
            Assumptions.abort("needs to run as root to " + why + "; running as " + System.getProperty("user.name"));
        }
    }

    /**
     * The system account {@code name} (made with {@code useradd -M -r} if missing), with {@code setpriv} to run as
     * it, or the test is skipped.
     */
    static int account(String name) throws IOException, InterruptedException {
        requireRoot("create and use a second account");
        requireExecutable(SETPRIV, "setpriv(1) (Debian package util-linux)");
        if (run(List.of("id", "-u", name)) != 0) {
            requireExecutable(USERADD, "useradd(8) (Debian package passwd)");
            if (run(List.of(USERADD.toString(), "-M", "-r", "-s", "/usr/sbin/nologin", name)) != 0
                    && run(List.of("id", "-u", name)) != 0) {
                Assumptions.abort("cannot create the account " + name + " with useradd -M -r");
            }
        }
        return id("-u", name);
    }

    /** The primary group id of the account {@code name}. */
    static int groupOf(String name) throws IOException, InterruptedException {
        return id("-g", name);
    }

    private static int id(String option, String name) throws IOException, InterruptedException {
        Process id =
                new ProcessBuilder("id", option, name).redirectErrorStream(true).start();
        String number = new String(id.getInputStream().readAllBytes()).strip();
        id.waitFor();
        return Integer.parseInt(number);
    }

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
