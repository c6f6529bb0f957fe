package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.spi.ProbeResult;
import dev.lockcache.lock.spi.ProbeResult.Verdict;
import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Providers' {@code probe(dir)} on a FUSE filesystem with scripted POSIX locks ({@code lying_fs.py}, fusepy on
 * libfuse 2): in {@code lie} mode every lock request succeeds without locking, in {@code refuse} mode every one
 * fails with {@code ENOLCK}.
 *
 * <p>What reaches the filesystem (found by experiment, Linux 6.x): classic {@code fcntl} locks and OFD locks
 * are forwarded to a FUSE filesystem that implements the lock operation; {@code flock(2)} is not (libfuse 2 as
 * fusepy uses it has no flock handler, so the kernel keeps flock locks locally and they still exclude among
 * processes of this host, but say nothing about other hosts). So {@code nio} and {@code ofd} must see the lie
 * ({@link Verdict#DOES_NOT_EXCLUDE}) or the refusal ({@link Verdict#UNAVAILABLE}); {@code flock} and {@code
 * exclusive-create} exclude here; {@code double} includes fcntl and must not claim to exclude.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class LyingFilesystemProbeIT {

    static final Map<String, Verdict> EXPECTED_WHEN_LYING = expected(Verdict.DOES_NOT_EXCLUDE);
    static final Map<String, Verdict> EXPECTED_WHEN_REFUSING = expected(Verdict.UNAVAILABLE);

    private static Map<String, Verdict> expected(Verdict forFcntl) {
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        verdicts.put("flock", Verdict.EXCLUDES);
        verdicts.put("nio", forFcntl);
        verdicts.put("ofd", forFcntl);
        verdicts.put("double", forFcntl);
        verdicts.put("exclusive-create", Verdict.EXCLUDES);
        return verdicts;
    }

    @TempDir
    Path dir;

    @Test
    void aFilesystemWhoseLocksLieIsCaughtByTheProbe() throws Exception {
        Map<String, ProbeResult> results = probeAllOn("lie");
        assertThat(verdicts(results)).as(describe(results)).isEqualTo(EXPECTED_WHEN_LYING);
    }

    @Test
    void aFilesystemThatRefusesLocksMakesFcntlProvidersUnavailableWithAReason() throws Exception {
        Map<String, ProbeResult> results = probeAllOn("refuse");
        assertThat(verdicts(results)).as(describe(results)).isEqualTo(EXPECTED_WHEN_REFUSING);
        assertThat(results.get("ofd").reason()).contains("does not support OFD locks");
    }

    @Test
    void twoPeersBothHoldAnFcntlLockOnTheLyingFilesystem() throws Exception {
        Path python = Tools.python();
        Path peer = Tools.script(dir, "peer_lock.py");
        try (Mount mount = Mount.of(dir, "lie")) {
            Path lock = mount.path().resolve("both.lock");
            List<String> hold = List.of(python.toString(), peer.toString(), "lockf", lock.toString(), "hold");
            try (ChildJvm first = ChildJvm.external(hold);
                    ChildJvm second = ChildJvm.external(hold)) {
                first.expect("HELD");
                second.expect("HELD");
                first.send("release");
                second.send("release");
                assertThat(first.awaitExit()).isZero();
                assertThat(second.awaitExit()).isZero();
            }
        }
    }

    private Map<String, ProbeResult> probeAllOn(String mode) throws Exception {
        Map<String, ProbeResult> results = new LinkedHashMap<>();
        try (Mount mount = Mount.of(dir, mode)) {
            for (String provider : EXPECTED_WHEN_LYING.keySet()) {
                results.put(provider, Tools.provider(provider).probe(mount.path()));
            }
        }
        results.values().forEach(r -> System.out.println(mode + ": " + r));
        return results;
    }

    private static Map<String, Verdict> verdicts(Map<String, ProbeResult> results) {
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        results.forEach((provider, result) -> verdicts.put(provider, result.verdict()));
        return verdicts;
    }

    private static String describe(Map<String, ProbeResult> results) {
        StringBuilder text = new StringBuilder("probe results:");
        results.forEach((provider, result) -> text.append("\n  ")
                .append(provider)
                .append(": ")
                .append(result.verdict())
                .append(" on ")
                .append(result.fileSystemType())
                .append(" - ")
                .append(result.reason()));
        return text.toString();
    }

    /** The scripted filesystem mounted on a fresh directory; unmounted and reaped on close. */
    private static final class Mount implements AutoCloseable {
        private final Path mountPoint;
        private final ChildJvm filesystem;

        private Mount(Path mountPoint, ChildJvm filesystem) {
            this.mountPoint = mountPoint;
            this.filesystem = filesystem;
        }

        static Mount of(Path dir, String mode) throws Exception {
            requireFuse();
            Path script = Files.exists(dir.resolve("lying_fs.py"))
                    ? dir.resolve("lying_fs.py")
                    : Tools.script(dir, "lying_fs.py");
            Path backing = Files.createDirectories(dir.resolve(mode + "-backing"));
            Path mountPoint = Files.createDirectories(dir.resolve(mode + "-mnt"));
            ChildJvm filesystem = ChildJvm.external(List.of(
                    Tools.PYTHON.toString(), script.toString(), backing.toString(), mountPoint.toString(), mode));
            Mount mount = new Mount(mountPoint, filesystem);
            try {
                Optional<String> ready = filesystem.expectUnlessExit("READY");
                if (ready.isEmpty()) {
                    Assumptions.abort("cannot mount a FUSE filesystem here (needs /dev/fuse and root or fusermount):"
                            + " lying_fs.py printed " + filesystem.transcript());
                }
                assertThat(isMounted(mountPoint))
                        .as("%s in /proc/self/mountinfo", mountPoint)
                        .isTrue();
                return mount;
            } catch (Throwable e) {
                mount.close();
                throw e;
            }
        }

        Path path() {
            return mountPoint;
        }

        @Override
        public void close() throws Exception {
            try {
                if (isMounted(mountPoint)
                        && Tools.run(List.of("fusermount3", "-u", mountPoint.toString())) != 0
                        && Tools.run(List.of("umount", "-l", mountPoint.toString())) != 0) {
                    throw new AssertionError("could not unmount " + mountPoint + "; unmount it by hand");
                }
            } finally {
                filesystem.close();
            }
        }

        private static boolean isMounted(Path mountPoint) throws IOException {
            String wanted = " " + mountPoint.toRealPath() + " ";
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.contains(wanted));
        }

        private static void requireFuse() throws IOException, InterruptedException {
            Tools.python();
            if (!Files.isReadable(Path.of("/dev/fuse")) || !Files.isWritable(Path.of("/dev/fuse"))) {
                Assumptions.abort("needs /dev/fuse (readable and writable) to mount the scripted FUSE filesystem");
            }
            if (Tools.run(List.of(Tools.PYTHON.toString(), "-c", "import fusepy")) != 0) {
                Assumptions.abort("needs fusepy for /usr/bin/python3 (Debian package python3-fusepy)");
            }
            if (Tools.run(List.of("sh", "-c", "command -v fusermount3 || command -v umount")) != 0) {
                Assumptions.abort("needs fusermount3 (Debian package fuse3) or umount to unmount");
            }
        }
    }
}
