package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * System calls failed or delayed on purpose with {@code strace -f -e inject=...} on child JVMs (a {@link
 * FaultChild} each): every injected fault is counted from strace's own log, and a test whose fault never fired
 * fails, so none of them can pass by not testing.
 *
 * <ul>
 *   <li>EINTR on every other lock call: the lock is still taken, and two counting children lose no update;
 *   <li>ENOLCK on every lock call: a clear error that names the lock file, nothing held, no owner record written;
 *   <li>a delayed generation write of exclusive-create (the holder's first {@code write} after its record is
 *       published, its {@code O_APPEND} to {@code LOCK.gen}, held 5 s, past a 1 s lease): a waiter breaks the
 *       silent record; never two holders in the critical section, fencing tokens unique;
 *   <li>EXDEV or EIO on the k-th rename of a cache refresh, for every k the refresh reaches: the fetch fails with
 *       a path or succeeds, the entry is the previous one or the new one (verified, never partial), and the next
 *       refresh works and leaves no debris.
 * </ul>
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FaultInjectionIT {

    static final List<String> PROVIDERS = Tools.KERNEL_PROVIDERS;

    /** Increments per counting child under EINTR injection. */
    static final int INCREMENTS = 100;

    @TempDir
    Path dir;

    /** The system calls that take and release {@code provider}'s kernel lock on x86-64 Linux. */
    static String lockSyscalls(String provider) {
        return switch (provider) {
            case "flock" -> "flock";
            case "nio", "ofd" -> "fcntl";
            case "double" -> "flock,fcntl";
            default -> throw new IllegalArgumentException(provider);
        };
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("PROVIDERS")
    void anInterruptedLockCallIsRetriedAndExclusionHolds(String provider) throws Exception {
        Tools.provider(provider);
        String syscalls = lockSyscalls(provider);
        Path lock = dir.resolve("eintr.lock");
        Path counter = dir.resolve("counter");
        List<Path> traces = List.of(dir.resolve("trace-1"), dir.resolve("trace-2"));
        List<Scripted> children = new ArrayList<>();
        try {
            for (Path trace : traces) {
                children.add(Scripted.start(traced(trace, syscalls, "error=EINTR:when=1+2", provider)));
            }
            for (Scripted child : children) {
                child.send("count " + lock + " " + counter + " " + INCREMENTS);
            }
            Set<Long> tokens = new HashSet<>();
            List<String> releaseErrors = new ArrayList<>();
            for (Scripted child : children) {
                String[] answer = child.nextAnswer("count").split(" ", 4);
                assertThat(answer[0])
                        .as("child %d: %s", child.pid(), child.transcript())
                        .isEqualTo("DONE");
                Arrays.stream(answer[1].split(",")).map(Long::parseLong).forEach(tokens::add);
                if (!answer[2].equals("release-errors=0")) {
                    releaseErrors.add(answer[2] + " " + answer[3]);
                }
                assertThat(child.exit()).isZero();
            }
            long injected = Strace.injected(traces);
            System.out.printf(
                    "%s: 2 processes x %d increments, %d EINTR injected into %s, %d distinct fencing tokens,"
                            + " releases that reported an error (the hold dropped all the same): %s%n",
                    provider, INCREMENTS, injected, syscalls, tokens.size(), releaseErrors);
            assertThat(injected)
                    .as("EINTR faults injected (or this proves nothing)")
                    .isPositive();
            assertThat(Files.readString(counter).strip()).isEqualTo(Integer.toString(2 * INCREMENTS));
            assertThat(tokens).as("one fencing token per acquisition").hasSize(2 * INCREMENTS);
        } finally {
            for (Scripted child : children) {
                child.close();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("PROVIDERS")
    void noLocksAvailableIsAClearErrorThatHoldsNothing(String provider) throws Exception {
        FileLocks here = FileLocks.using(Tools.provider(provider));
        String syscalls = lockSyscalls(provider);
        Path locksDir = Files.createDirectories(dir.resolve("locks"));
        Path lock = locksDir.resolve("enolck.lock");
        Path trace = dir.resolve("trace");
        try (Scripted child = Scripted.start(Launch.faultChild(provider, Map.of()));
                Strace strace = Strace.attach(child, syscalls, "error=ENOLCK", trace)) {
            String tried = child.ask("try " + lock + " EXCLUSIVE");
            String waited = child.ask("acquire " + lock + " EXCLUSIVE 5000");
            String paths = child.ask("paths");
            System.out.printf("%s under ENOLCK: try -> %s; acquire -> %s; %s%n", provider, tried, waited, paths);
            assertThat(tried).startsWith("FAILED ").contains(lock.toString());
            assertThat(waited).startsWith("FAILED ").contains(lock.toString());
            assertThat(paths).as("nothing held or waited for in the child").isEqualTo("PATHS 0");
            assertThat(listing(locksDir))
                    .as("no debris beside the lock file")
                    .isSubsetOf(List.of(lock.getFileName().toString()));
            if (Files.exists(lock)) {
                assertThat(Files.size(lock)).as("no owner record written").isZero();
            }
            Optional<LockHandle> ours = here.tryAcquire(lock, LockMode.EXCLUSIVE);
            assertThat(ours).as("the failed child holds nothing").isPresent();
            ours.get().close();
            assertThat(child.exit()).isZero();
        }
        assertThat(Strace.injected(List.of(trace))).as("ENOLCK faults injected").isPositive();
    }

    @Test
    void aDelayedGenerationWriteNeverGivesTwoHoldersOrOneToken() throws Exception {
        Tools.provider("exclusive-create");
        Map<String, String> lease = Map.of("lockcache.exclusive-create.lease", "PT1S");
        Path lock = dir.resolve("gen.lock");
        Path marker = dir.resolve("critical.inside");
        Path trace = dir.resolve("trace");
        try (Scripted slow = Scripted.start(Launch.faultChild("exclusive-create", lease));
                Scripted breaker = Scripted.start(Launch.faultChild("exclusive-create", lease))) {
            String delayed;
            String taken;
            try (Strace strace = Strace.attach(slow, "write", "delay_enter=5000000:when=1", trace)) {
                slow.send("try " + lock + " EXCLUSIVE"); // its record is published, then its .gen append waits 5 s
                awaitFile(lock, slow);
                taken = breaker.ask("acquire " + lock + " EXCLUSIVE 30000");
                assertThat(taken).as("the waiter breaks the silent holder").startsWith("ACQUIRED ");
                assertThat(breaker.ask("work " + marker)).isEqualTo("IN");
                delayed = slow.nextAnswer("try");
            }
            String slowWork = delayed.startsWith("ACQUIRED ") ? slow.ask("work " + marker) : "(not held)";
            System.out.printf(
                    "exclusive-create, generation write delayed 5 s (%d injected) past a 1 s lease: breaker -> %s;"
                            + " delayed holder -> %s, its work -> %s, told %s%n",
                    Strace.injected(List.of(trace)), taken, delayed, slowWork, slow.eventsSoFar("LOST"));
            assertThat(Strace.injected(List.of(trace)))
                    .as("the delay was injected")
                    .isEqualTo(1);
            if (delayed.startsWith("ACQUIRED ")) {
                assertThat(delayed.split(" ")[1]).as("fencing tokens").isNotEqualTo(taken.split(" ")[1]);
                assertThat(slowWork)
                        .as("never two holders in the critical section")
                        .startsWith("REFUSED ");
                slow.ask("release");
            } else {
                assertThat(delayed).matches(a -> a.equals("BUSY") || a.startsWith("FAILED "), "busy or failed");
            }
            assertThat(breaker.ask("leave " + marker)).isEqualTo("OUT");
            assertThat(breaker.ask("release")).isEqualTo("RELEASED");
            assertThat(slow.exit()).isZero();
            assertThat(breaker.exit()).isZero();
        }
    }

    /** Waits (a handshake through the file system, checked every millisecond) until {@code file} exists. */
    private static void awaitFile(Path file, Scripted child) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(file)) {
            assertThat(System.nanoTime() < deadline)
                    .as("%s never appeared; child printed %s", file, child.transcript())
                    .isTrue();
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /** The renames of a refresh that may fail. */
    static final List<String> RENAME_ERRORS = List.of("EXDEV", "EIO");

    /** A bound on the renames of one refresh (it makes a handful); the loop ends at the first k never reached. */
    static final int MAX_RENAMES = 10;

    @ParameterizedTest(name = "{0}")
    @FieldSource("RENAME_ERRORS")
    void aFailedRenameNeverCostsTheEntry(String error) throws Exception {
        Path root = dir.resolve("cache");
        String syscalls = "rename,renameat,renameat2";
        String v1 = "FETCHED " + FaultChild.sha256(FaultChild.content(50_000, 1));
        String v2 = "FETCHED " + FaultChild.sha256(FaultChild.content(60_000, 2));
        List<String> outcomes = new ArrayList<>();
        try (Scripted plain = Scripted.start(Launch.faultChild("flock", Map.of()))) {
            assertThat(plain.ask("fetch " + root + " data ALWAYS 50000 1")).isEqualTo(v1);
            for (int k = 1; k <= MAX_RENAMES; k++) {
                Path trace = dir.resolve("trace-" + error + "-" + k);
                String faulted;
                try (Scripted child =
                        Scripted.start(traced(trace, syscalls, "error=" + error + ":when=" + k, "flock"))) {
                    faulted = child.ask("fetch " + root + " data ALWAYS 60000 2");
                    assertThat(child.exit()).isZero();
                }
                long injected = Strace.injected(List.of(trace));
                String never = plain.ask("fetch " + root + " data NEVER 0 0");
                String debrisBefore = plain.ask("debris " + root);
                String next = plain.ask("fetch " + root + " data ALWAYS 50000 1");
                String debris = plain.ask("debris " + root);
                outcomes.add("rename " + k + " (" + injected + " injected): " + shorten(faulted) + "; NEVER -> "
                        + (never.equals(v1) ? "previous" : never.equals(v2) ? "new" : never) + "; " + debrisBefore);
                if (injected == 0) {
                    assertThat(faulted).as("a refresh with no fault").isEqualTo(v2);
                    break;
                }
                assertThat(faulted).matches(a -> a.equals(v2) || a.startsWith("FETCH-FAILED "), "fetched or failed");
                if (faulted.startsWith("FETCH-FAILED ")) {
                    assertThat(faulted).as("the error names a path").contains(root.toString());
                }
                assertThat(never).as("after %s at rename %d", error, k).isIn(v1, v2);
                assertThat(next).as("the next refresh").isEqualTo(v1);
                assertThat(debris).as("no debris after the next refresh").isEqualTo("DEBRIS none");
                assertThat(k)
                        .as("a refresh makes fewer than %d renames", MAX_RENAMES)
                        .isLessThan(MAX_RENAMES);
            }
            assertThat(plain.exit()).isZero();
        } finally {
            System.out.printf("%s on renames of a refresh:%n  %s%n", error, String.join("\n  ", outcomes));
        }
        assertThat(outcomes.size()).as("at least one rename failed").isGreaterThan(1);
    }

    private static String shorten(String answer) {
        return answer.length() > 220 ? answer.substring(0, 220) + "..." : answer;
    }

    /** {@link FaultChild} for {@code provider} under strace injecting {@code fault} into {@code syscalls}. */
    static List<String> traced(Path trace, String syscalls, String fault, String provider, String... properties) {
        Map<String, String> props = new java.util.LinkedHashMap<>();
        for (int i = 0; i + 1 < properties.length; i += 2) {
            props.put(properties[i], properties[i + 1]);
        }
        return Launch.under(
                List.of(
                        Tools.strace().toString(),
                        "-f",
                        "-qq",
                        "--seccomp-bpf",
                        "-o",
                        trace.toString(),
                        "-e",
                        "trace=" + syscalls,
                        "-e",
                        "inject=" + syscalls + ":" + fault),
                Launch.faultChild(provider, props));
    }

    static List<String> listing(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
