package dev.lockcache.lock.exclusive;

import static dev.lockcache.lock.exclusive.ExclusiveCreateLockProviderTest.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.UnsafePathException;
import dev.lockcache.lock.spi.DirectoryTrust;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second account ({@value #ATTACKER}, made here if missing) attacks locks in a sticky shared directory the
 * way issue 10 found: rewriting a record's {@code start=} under umask 000, planting symlinks, FIFOs and forged
 * records. Needs root, {@code useradd} and {@code setpriv}; skips naming what is missing.
 */
@Timeout(120)
class HostileAccountIT {

    static final String ATTACKER = "lcattacker";

    @TempDir
    Path root;

    private Path shared;
    private final FakeTicker ticker = new FakeTicker();
    private final ExclusiveCreateLockProvider provider =
            new ExclusiveCreateLockProvider().withLease(Duration.ofSeconds(60)).withTicker(ticker);

    @BeforeAll
    static void attackerAccount() throws Exception {
        assumeTrue(DirectoryTrust.effectiveUid() == 0, "needs root (to run a second account)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv (util-linux)");
        if (run(List.of("id", "-u", ATTACKER)) != 0) {
            assumeTrue(
                    run(List.of("useradd", "-M", "-r", ATTACKER)) == 0,
                    "needs useradd to make the account " + ATTACKER);
        }
    }

    @BeforeEach
    void sharedDirectory() throws IOException {
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        shared = Files.createDirectory(root.resolve("shared"));
        Files.setAttribute(shared, "unix:mode", 01777, LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void underUmask000AnotherAccountCannotForgeTheRecordSoNothingIsBrokenAndNobodyElseGetsIn() throws Exception {
        Path lock = shared.resolve("held.lock");
        try (ChildProcess child = ChildProcess.startInShell("umask 000", "hold", lock)) {
            assertThat(child.readLine()).startsWith("HELD ");
            assertThat(mode(lock)).isEqualTo("rw-------");
            assertThat(mode(GenerationFile.pathFor(lock))).isEqualTo("rw-------");
            byte[] before = Files.readAllBytes(lock);

            int rewrite = asAttacker("sed 's/^start=.*/start=1/' '" + lock + "' > /dev/null 2>&1 && printf"
                    + " 'lockcache-owner 1\\npid=1\\nstart=1\\n' > '" + lock + "'");
            int replace =
                    asAttacker("printf x > '" + shared + "/forged' && mv -f '" + shared + "/forged' '" + lock + "'");
            assertThat(rewrite).as("the attacker could not write the record").isNotZero();
            assertThat(replace).as("the attacker could not replace the record").isNotZero();
            assertThat(Files.readAllBytes(lock)).isEqualTo(before);

            assertThat(provider.tryLock(request(lock))).isEmpty();
            assertThat(((LockOwner.Known) provider.readOwner(lock)).record().pid())
                    .isEqualTo(child.pid());
            child.send("release");
            assertThat(child.readLine()).isEqualTo("RELEASED");
        }
    }

    @Test
    void symlinksFifosAndForgedRecordsPlantedByAnotherAccountAreRefusedAndLeftAlone() throws Exception {
        Path victim = Files.writeString(root.resolve("victim"), "root's file\n");
        assertThat(asAttacker("ln -s '" + victim + "' '" + shared + "/link.lock' && mkfifo '" + shared
                        + "/fifo.lock' && printf 'lockcache-owner 1\\npid=999999\\n' > '" + shared + "/forged.lock'"
                        + " && ln -s '" + victim + "' '" + shared + "/mine.lock.gen'"))
                .isZero();
        for (String name : List.of("link.lock", "fifo.lock", "forged.lock", "mine.lock")) {
            Path lock = shared.resolve(name);
            assertThatThrownBy(() -> provider.tryLock(request(lock))).as(name).isInstanceOf(UnsafePathException.class);
            ticker.advance(Duration.ofMinutes(5));
            assertThatThrownBy(() -> provider.tryLock(request(lock)))
                    .as(name + " after a lease")
                    .isInstanceOf(UnsafePathException.class);
        }
        assertThat(Files.readString(victim)).isEqualTo("root's file\n");
        assertThat(Files.readString(shared.resolve("forged.lock"))).startsWith("lockcache-owner 1");
        assertThat(Files.exists(shared.resolve("mine.lock"), LinkOption.NOFOLLOW_LINKS))
                .isFalse();
    }

    private static String mode(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
    }

    private static int asAttacker(String script) throws Exception {
        return run(
                List.of("setpriv", "--reuid=" + ATTACKER, "--regid=" + ATTACKER, "--clear-groups", "sh", "-c", script));
    }

    private static int run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(new ArrayList<>(command))
                .redirectErrorStream(true)
                .start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
            throw new AssertionError(command + " did not finish");
        }
        if (process.exitValue() != 0) {
            System.err.println(command + ": " + new String(output, StandardCharsets.UTF_8).strip());
        }
        return process.exitValue();
    }
}
