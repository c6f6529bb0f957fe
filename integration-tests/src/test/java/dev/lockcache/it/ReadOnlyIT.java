package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The lock side of a read-only mount (cache-core's {@code CacheSecurityIT} covers the cache side: warm hits,
 * mirrors and NEVER served from a read-only root, fetches refused): a lock directory bind-mounted read-only in a
 * private mount namespace around a {@link FaultChild}. Every provider answers each request at once with a lock
 * or an error that names the path in words, never a wait until the timeout and never a hang; a new lock file
 * cannot be made, so that is always an error. (Measured: flock takes an existing read-only file exclusively as it
 * is, with no record and token 0; the fcntl-based providers take it shared only.)
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ReadOnlyIT {

    static final List<String> PROVIDERS = List.of("flock", "nio", "ofd", "double", "exclusive-create");

    static final long WAIT_MILLIS = 20_000;

    /** An error that gives only a number ("lock failed: errno 9") does not tell the user what to do. */
    static final String BARE_ERRNO_SIGN = "failed: errno ";

    /**
     * Found here, belongs to lock-posix-ofd: an exclusive OFD lock on a file opened read-only fails with "lock
     * failed: errno 9" (EBADF) where nio says the file is read-only and a shared lock would work. Reported as
     * skipped while it reproduces; remove once fixed.
     */
    static final Map<String, String> KNOWN_UNCLEAR = Map.of(
            "ofd",
            "lock-posix-ofd: an exclusive lock on a read-only lock file fails with 'lock failed: errno 9' instead of"
                    + " saying it is read-only and that a shared lock works");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @FieldSource("PROVIDERS")
    void aReadOnlyLockDirectoryGivesALockOrAClearErrorAtOnce(String provider) throws Exception {
        FileLocks here = FileLocks.using(Tools.provider(provider));
        Path locks = Files.createDirectories(dir.resolve("locks"));
        Path existing = locks.resolve("existing.lock");
        try (LockHandle once = here.acquire(existing, Duration.ofSeconds(10))) {
            assertThat(once.isOpen()).isTrue(); // leaves the lock file (kernel) or the .gen file (exclusive-create)
        }
        Path fresh = locks.resolve("new.lock");
        List<String> before = FaultInjectionIT.listing(locks);
        String answers;
        try (Scripted child = Scripted.start(readOnly(locks, provider))) {
            String exclusive = child.ask("acquire " + existing + " EXCLUSIVE " + WAIT_MILLIS);
            if (exclusive.startsWith("ACQUIRED ")) {
                child.ask("release");
            }
            String shared = child.ask("acquire " + existing + " SHARED " + WAIT_MILLIS);
            if (shared.startsWith("ACQUIRED ")) {
                child.ask("release");
            }
            String created = child.ask("acquire " + fresh + " EXCLUSIVE " + WAIT_MILLIS);
            String writable = child.ask("sh touch " + locks.resolve("probe"));
            answers = String.join(
                    "\n  ",
                    "existing, exclusive: " + exclusive,
                    "existing, shared: " + shared,
                    "new: " + created,
                    "touch in the mount: " + writable);
            System.out.printf("%s on a read-only lock directory:%n  %s%n", provider, answers);
            assertThat(writable).as("the bind mount is read-only").isNotEqualTo("EXIT 0");
            for (String answer : List.of(exclusive, shared)) {
                assertThat(answer).matches(a -> a.startsWith("ACQUIRED ") || a.startsWith("FAILED "), "lock or error");
            }
            for (String answer : List.of(exclusive, shared, created)) {
                if (answer.startsWith("FAILED ")) {
                    assertThat(answer).contains(locks.toString());
                }
            }
            assertThat(created).startsWith("FAILED ");
            assertThat(child.exit()).isZero();
        }
        assertThat(FaultInjectionIT.listing(locks))
                .as("nothing changed in the directory")
                .isEqualTo(before);
    }

    /** A FaultChild in a private mount namespace where {@code locks} is bind-mounted onto itself read-only. */
    private static List<String> readOnly(Path locks, String provider) throws Exception {
        Tools.unshareMount();
        String d = Launch.quote(locks.toString());
        return List.of(
                Tools.UNSHARE.toString(),
                "-m",
                "sh",
                "-c",
                "mount --bind " + d + " " + d + " && mount -o remount,bind,ro " + d + " && exec "
                        + Launch.shell(Launch.faultChild(provider, Map.of())));
    }
}
