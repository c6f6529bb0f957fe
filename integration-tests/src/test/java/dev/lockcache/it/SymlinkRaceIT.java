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
 * Python loop that swaps every lock path of a sticky, world-writable directory (and its {@code .gen} and {@code
 * .break} side names) between a symbolic link to a root-owned victim file and a regular file of its own, while two
 * root child JVMs try {@value #NAMES} lock files {@value #ROUNDS} times each. Every acquisition must stand on a
 * safe file (regular, root's, one link) or fail with an error naming the path (every planted name does, before
 * the attacker starts to swap); the victim's bytes, mode, inode
 * and times never change, and nothing appears outside the shared directory.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SymlinkRaceIT {

    static final String ATTACKER = "lcattacker";
    static final List<String> PROVIDERS = List.of("flock", "nio", "ofd", "double", "exclusive-create");
    static final int NAMES = 24;
    static final int ROUNDS = 10;
    static final int PASSES = 20;

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
                Tools.python().toString(),
                "-c",
                attackerLoop(shared, victim, stop),
                shared.toString(),
                victim.toString(),
                stop.toString(),
                Integer.toString(NAMES)))) {
            attacker.expect("PLANTED");
            try (Scripted first = Scripted.start(Launch.faultChild(provider, Map.of()));
                    Scripted second = Scripted.start(Launch.faultChild(provider, Map.of()))) {
                // before the attacker moves, every planted name (its symlinks and its own files) is refused
                for (Scripted child : List.of(first, second)) {
                    child.send("race " + shared + " " + NAMES + " 1");
                    assertThat(child.nextAnswer("race"))
                            .as("the planted names")
                            .startsWith("DONE safe=0 busy=0 refused=" + NAMES + " wrong=0 ");
                }
                attacker.send("go");
                // the lock users race on until the attacker has swapped every name PASSES times; a kept kernel
                // lock file would end the race for its name (the sticky bit keeps the attacker from replacing
                // root's file), so each one is removed under its lock and created again by the next try
                String race = "race " + shared + " " + NAMES + " " + ROUNDS
                        + (Tools.KERNEL_PROVIDERS.contains(provider) ? " unlink" : "");
                int batches = 0;
                do {
                    first.send(race);
                    second.send(race);
                    results.add(first.nextAnswer("race"));
                    results.add(second.nextAnswer("race"));
                    batches++;
                } while (attackerPasses(shared) < PASSES && batches < 1000);
                first.exit();
                second.exit();
            } finally {
                Files.writeString(stop, "stop");
            }
            swaps = attacker.expect("SWAPS ");
            assertThat(attacker.awaitExit()).isZero();
        }
        System.out.printf(
                "%s: attacker %s (uid %d, %s), 2 root processes x %d batches of %d tries; first and last:%n  %s%n  %s%n",
                provider,
                ATTACKER,
                uid,
                swaps,
                results.size() / 2,
                NAMES * ROUNDS,
                results.get(0),
                results.get(results.size() - 1));
        Map<String, Object> after = Files.readAttributes(victim, "unix:*", LinkOption.NOFOLLOW_LINKS);
        assertThat(Files.readString(victim)).isEqualTo("precious bytes that belong to root\n");
        for (String attribute : List.of("ino", "mode", "size", "nlink", "uid", "lastModifiedTime", "ctime")) {
            assertThat(after.get(attribute)).as("victim's %s", attribute).isEqualTo(before.get(attribute));
        }
        assertThat(FaultInjectionIT.listing(dir))
                .as("nothing written outside the shared directory")
                .containsExactlyInAnyOrder("shared", "stop", "victim");
        assertThat(attackerPasses(shared))
                .as("the attacker swapped every name many times while the lock users worked")
                .isGreaterThanOrEqualTo(PASSES);
        for (String result : results) {
            assertThat(result).startsWith("DONE ").contains(" wrong=0 ");
        }
    }

    private static int attackerPasses(Path shared) throws java.io.IOException {
        Path passes = shared.resolve("attacker.passes");
        return Files.exists(passes, LinkOption.NOFOLLOW_LINKS) ? Integer.parseInt(Files.readString(passes)) : 0;
    }

    /**
     * The attacker, a Python loop (hundreds of times faster than a shell that forks {@code ln} and {@code rm}):
     * plants a symlink to the victim at every even name and a regular file of its own at every odd one, prints
     * PLANTED, waits for a line, then, until the stop file appears, swaps every name atomically ({@code rename}
     * over it) to a symlink, then to a file of its own, then removes it; it prints {@code SWAPS <n>}.
     */
    private static String attackerLoop(Path shared, Path victim, Path stop) {
        return String.join(
                "\n",
                "import os, sys",
                "d, victim, stop, names = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])",
                "paths = [os.path.join(d, 'race-%d.lock%s' % (i, side)) for i in range(names)"
                        + " for side in ('', '.gen', '.break')]",
                "for n, p in enumerate(paths):",
                "    if (n // 3) % 2 == 0: os.symlink(victim, p)",
                "    else: open(p, 'w').close()",
                "print('PLANTED', flush=True)",
                "sys.stdin.readline()",
                "link, own, n = os.path.join(d, 'attacker.link'), os.path.join(d, 'attacker.own'), 0",
                "while not os.path.exists(stop):",
                "    for p in paths:",
                "        try:",
                "            os.symlink(victim, link); os.rename(link, p)",
                "            open(own, 'w').close(); os.rename(own, p)",
                "            os.unlink(p)",
                "        except OSError:",
                "            for leftover in (link, own):",
                "                try: os.unlink(leftover)",
                "                except OSError: pass",
                "        n += 1",
                "    passes = n // len(paths)",
                "    with open(os.path.join(d, 'attacker.tmp'), 'w') as f: f.write(str(passes))",
                "    os.rename(os.path.join(d, 'attacker.tmp'), os.path.join(d, 'attacker.passes'))",
                "print('SWAPS', n, flush=True)");
    }
}
