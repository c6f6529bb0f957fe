package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * A full disk: a {@value #SIZE} tmpfs mounted in a private mount namespace ({@code unshare -m}) around a {@link
 * FaultChild}. ENOSPC during a refresh keeps the previous entry intact and leaves no debris, and the next fetch
 * works; a lock whose owner record cannot be written holds nothing (a foreign peer gets the lock at once), leaves
 * no file that would make the next acquisition wait, and works once there is space again.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FullDiskIT {

    static final String SIZE = "3m";

    static final List<String> PROVIDERS = List.of("flock", "nio", "ofd", "double", "exclusive-create");

    @TempDir
    Path dir;

    @Test
    void noSpaceDuringARefreshKeepsThePreviousEntry() throws Exception {
        Path disk = Files.createDirectories(dir.resolve("disk"));
        Path cache = disk.resolve("cache");
        try (Scripted child = Scripted.start(onTmpfs(disk, "flock"))) {
            String v1 = child.ask(fetch(cache, "ALWAYS", 100_000, 1));
            String full = child.ask(fetch(cache, "ALWAYS", 4_000_000, 2));
            String debris = child.ask("debris " + cache);
            String never = child.ask(fetch(cache, "NEVER", 0, 0));
            String v3 = child.ask(fetch(cache, "ALWAYS", 200_000, 3));
            String after = child.ask("debris " + cache);
            System.out.printf(
                    "ENOSPC on a %s tmpfs: refresh of 4 MB -> %s; debris: %s; NEVER -> %s; next refresh -> %s;"
                            + " debris after: %s%n",
                    SIZE, full, debris, never, v3, after);
            assertThat(v1).isEqualTo("FETCHED " + sha(100_000, 1));
            assertThat(full).startsWith("FETCH-FAILED ").containsIgnoringCase("space");
            assertThat(debris).isEqualTo("DEBRIS none");
            assertThat(never).as("the previous entry, intact").isEqualTo("FETCHED " + sha(100_000, 1));
            assertThat(v3).isEqualTo("FETCHED " + sha(200_000, 3));
            assertThat(after).isEqualTo("DEBRIS none");
            assertThat(child.exit()).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("PROVIDERS")
    void aLockWhoseRecordCannotBeWrittenHoldsNothing(String provider) throws Exception {
        Tools.provider(provider);
        Path python = Tools.python();
        Path flock = Tools.flockCommand();
        Path peer = Tools.script(dir, "peer_lock.py");
        Path disk = Files.createDirectories(dir.resolve("disk"));
        Path locks = disk.resolve("locks");
        Path lock = locks.resolve("full.lock");
        try (Scripted child = Scripted.start(onTmpfs(disk, provider))) {
            assertThat(child.ask("try " + locks.resolve("warm.lock") + " EXCLUSIVE"))
                    .startsWith("ACQUIRED ");
            assertThat(child.ask("release")).isEqualTo("RELEASED");
            String filled = child.ask("fill " + disk.resolve("filler"));
            String tried = child.ask("try " + lock + " EXCLUSIVE");
            String paths = child.ask("paths");
            String listing = child.ask("ls " + locks);
            // kernel locks: peers that write nothing must get the lock; exclusive-create: no file may be left at the
            // lock path (an empty record there reads as a holder still writing it, and the next acquirer would wait)
            boolean kernel = !provider.equals("exclusive-create");
            String flockPeer = kernel ? child.ask("run " + flock + " -n " + lock + " true") : "EXIT 0";
            String fcntlPeer = kernel
                    ? child.ask("sh " + python + " " + peer + " lockf " + lock + " try | grep -q ACQUIRED")
                    : "EXIT 0";
            child.ask("remove " + disk.resolve("filler"));
            String later = child.ask("try " + lock + " EXCLUSIVE");
            System.out.printf(
                    "%s on a full %s tmpfs (%s): try -> %s; %s; lock directory: %s; flock(1) peer -> %s, lockf peer"
                            + " -> %s; with space again -> %s%n",
                    provider, SIZE, filled, tried, paths, listing, flockPeer, fcntlPeer, later);
            assertThat(tried).startsWith("FAILED ").contains(lock.toString());
            assertThat(paths).isEqualTo("PATHS 0");
            if (!kernel) {
                assertThat(listing.split(" "))
                        .as("no record or temporary file left")
                        .containsOnly("LS", "warm.lock.gen");
            }
            assertThat(flockPeer).as("nothing held: flock(1) gets it").isEqualTo("EXIT 0");
            assertThat(fcntlPeer).as("nothing held: a lockf peer gets it").isEqualTo("EXIT 0");
            assertThat(later).as("no leftover makes the next acquisition wait").startsWith("ACQUIRED ");
            assertThat(child.ask("release")).isEqualTo("RELEASED");
            assertThat(child.exit()).isZero();
        }
    }

    private static String fetch(Path cache, String policy, int size, long seed) {
        return "fetch " + cache + " data " + policy + " " + size + " " + seed;
    }

    static String sha(int size, long seed) {
        return FaultChild.sha256(FaultChild.content(size, seed));
    }

    /** A FaultChild in a private mount namespace with a fresh {@value #SIZE} tmpfs on {@code disk}. */
    private static List<String> onTmpfs(Path disk, String provider) throws Exception {
        Tools.unshareMount();
        String java = Launch.shell(Launch.faultChild(provider, Map.of()));
        return List.of(
                Tools.UNSHARE.toString(),
                "-m",
                "sh",
                "-c",
                "mount -t tmpfs -o size=" + SIZE + ",mode=0700 tmpfs " + Launch.quote(disk.toString()) + " && exec "
                        + java);
    }
}
