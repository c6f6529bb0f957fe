package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Issue 10 under a live race: a second account ({@value #ATTACKER}, made with {@code useradd -M -r}) runs a
 * shell loop that swaps every lock path of a sticky, world-writable directory (and its {@code .gen} and {@code
 * .break} side names) between a symbolic link to a root-owned victim file and a regular file of its own, while two
 * root child JVMs try {@value #NAMES} lock files {@value #ROUNDS} times each. Every acquisition must stand on a
 * safe file (regular, root's, one link) or fail with an error naming the path (the planted names make sure some
 * do); the victim's bytes, mode, inode
 * and times never change, and nothing appears outside the shared directory.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SymlinkRaceIT {

    static final String ATTACKER = "lcattacker";
    static final List<String> PROVIDERS = List.of("flock", "nio", "ofd", "double", "exclusive-create");
    static final int NAMES = 24;
    static final int ROUNDS = 10;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @FieldSource("PROVIDERS")
    void aRacingAttackerNeverRedirectsALock(String provider) throws Exception {
        Tools.provider(provider);
        int uid = Tools.account(ATTACKER);
        int gid = Tools.groupOf(ATTACKER);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path victim = dir.resolve("victim");
        Files.writeString(victim, "precious bytes that belong to root\n");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
        Map<String, Object> before = Files.readAttributes(victim, "unix:*", LinkOption.NOFOLLOW_LINKS);
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThat(Tools.run(List.of("chmod", "1777", shared.toString()))).isZero();
        Path stop = dir.resolve("stop");

        List<String> results = new ArrayList<>();
        String swaps;
        try (ChildJvm attacker = ChildJvm.external(List.of(
                Tools.SETPRIV.toString(),
                "--reuid=" + uid,
                "--regid=" + gid,
                "--clear-groups",
                "sh",
                "-c",
                attackerLoop(shared, victim, stop)))) {
            attacker.expect("PLANTED");
            try (Scripted first = Scripted.start(Launch.faultChild(provider, Map.of()));
                    Scripted second = Scripted.start(Launch.faultChild(provider, Map.of()))) {
                attacker.send("go");
                first.send("race " + shared + " " + NAMES + " " + ROUNDS);
                second.send("race " + shared + " " + NAMES + " " + ROUNDS);
                results.add(first.nextAnswer("race"));
                results.add(second.nextAnswer("race"));
                first.exit();
                second.exit();
            } finally {
                Files.writeString(stop, "stop");
            }
            swaps = attacker.expect("SWAPS ");
            assertThat(attacker.awaitExit()).isZero();
        }
        System.out.printf(
                "%s: attacker %s (uid %d, %s), 2 root processes x %d tries:%n  %s%n",
                provider, ATTACKER, uid, swaps, NAMES * ROUNDS, String.join("\n  ", results));
        Map<String, Object> after = Files.readAttributes(victim, "unix:*", LinkOption.NOFOLLOW_LINKS);
        assertThat(Files.readString(victim)).isEqualTo("precious bytes that belong to root\n");
        for (String attribute : List.of("ino", "mode", "size", "nlink", "uid", "lastModifiedTime", "ctime")) {
            assertThat(after.get(attribute)).as("victim's %s", attribute).isEqualTo(before.get(attribute));
        }
        assertThat(FaultInjectionIT.listing(dir))
                .as("nothing written outside the shared directory")
                .containsExactlyInAnyOrder("shared", "stop", "victim");
        for (String result : results) {
            assertThat(result).startsWith("DONE ").contains(" wrong=0 ").doesNotContain(" refused=0 ");
        }
        assertThat(Long.parseLong(swaps.split(" ")[1]))
                .as("the attacker swapped paths")
                .isPositive();
    }

    /**
     * The attacker: plants a symlink to the victim at every even name and a regular file of its own at every odd
     * one, prints PLANTED, waits for a line, then loops: for every name a symlink, then its own file, then nothing.
     */
    private static String attackerLoop(Path shared, Path victim, Path stop) {
        String names = "";
        String plant = "";
        String d = Launch.quote(shared.toString());
        String v = Launch.quote(victim.toString());
        for (int i = 0; i < NAMES; i++) {
            for (String side : List.of("", ".gen", ".break")) {
                String name = "race-" + i + ".lock" + side;
                names += " " + name;
                plant += i % 2 == 0 ? "ln -s " + v + " " + d + "/" + name + "; " : "true > " + d + "/" + name + "; ";
            }
        }
        return plant + "echo PLANTED; read go; n=0; while [ ! -e " + Launch.quote(stop.toString()) + " ]; do for f in"
                + names
                + "; do ln -s " + Launch.quote(victim.toString()) + " " + d + "/$f 2>/dev/null; rm -f " + d
                + "/$f 2>/dev/null; true 2>/dev/null > " + d + "/$f; rm -f " + d + "/$f 2>/dev/null; n=$((n+1));"
                + " done; done; echo SWAPS $n";
    }
}
