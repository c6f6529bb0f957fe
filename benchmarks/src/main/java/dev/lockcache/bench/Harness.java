package dev.lockcache.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The parent side of the cross-process harness: starts {@link HarnessChild} JVMs on this JVM's class path,
 * coordinates them through a {@link SharedBoard} in a fresh directory per run, reads their results off the
 * board and always kills and reaps them.
 */
final class Harness {

    /** A whole scenario may take this long before it is abandoned (liveness, not a measurement). */
    private static final long SCENARIO_LIMIT_MINUTES = 10;

    private final Path workDir;
    private int runs;

    Harness(Path workDir) {
        this.workDir = workDir;
    }

    /**
     * Hand-off latencies between two JVMs (see {@link HarnessChild#handoff}); the first {@code discard}
     * rounds (class loading, JIT) are left out.
     */
    LatencySummary handoff(String contender, int rounds, long holdNanos, long jitterNanos, int discard)
            throws IOException, InterruptedException {
        if (rounds <= discard + 1) {
            throw new IllegalArgumentException(
                    "need more rounds (" + rounds + ") than discarded ones (" + discard + ")");
        }
        Path run = newRun("handoff-" + contender);
        Path boardFile = run.resolve("board");
        try (SharedBoard board = SharedBoard.map(boardFile, HarnessChild.Handoff.slots(rounds));
                Children children = new Children(run)) {
            for (int i = 0; i < 2; i++) {
                children.start(
                        "handoff",
                        contender,
                        boardFile.toString(),
                        run.resolve("lock").toString(),
                        Integer.toString(i),
                        Integer.toString(rounds),
                        Long.toString(holdNanos),
                        Long.toString(jitterNanos));
            }
            children.awaitSuccess();
            long[] samples = new long[rounds - 1 - discard];
            for (int r = discard + 1; r < rounds; r++) {
                samples[r - 1 - discard] = board.get(HarnessChild.Handoff.latency(r));
            }
            return LatencySummary.of(samples);
        }
    }

    /** What two JVMs of {@code threads} threads each did while always wanting the lock. */
    record ContentionResult(double ownerChangesPerSecond, long[] acquisitions, long violations, double seconds) {
        /** The smaller JVM's share of all acquisitions, 0..0.5. */
        double minorityShare() {
            long total = acquisitions[0] + acquisitions[1];
            return total == 0 ? 0 : (double) Math.min(acquisitions[0], acquisitions[1]) / total;
        }
    }

    ContentionResult contention(String contender, int threads, Duration duration)
            throws IOException, InterruptedException {
        Path run = newRun("contention-" + contender);
        Path boardFile = run.resolve("board");
        try (SharedBoard board = SharedBoard.map(boardFile, HarnessChild.Contention.SLOTS);
                Children children = new Children(run)) {
            for (int i = 0; i < 2; i++) {
                children.start(
                        "contention",
                        contender,
                        boardFile.toString(),
                        run.resolve("lock").toString(),
                        Integer.toString(i),
                        Integer.toString(threads));
            }
            children.awaitBoard(board, HarnessChild.Contention.READY, 2);
            board.set(HarnessChild.Contention.STOP_AT, System.nanoTime() + duration.toNanos());
            children.awaitSuccess();
            long[] acquisitions = {
                board.get(HarnessChild.Contention.acquisitions(0)), board.get(HarnessChild.Contention.acquisitions(1))
            };
            long changes = board.get(HarnessChild.Contention.ownerChanges(0))
                    + board.get(HarnessChild.Contention.ownerChanges(1));
            double seconds = duration.toNanos() / 1e9;
            return new ContentionResult(
                    changes / seconds, acquisitions, board.get(HarnessChild.Contention.VIOLATIONS), seconds);
        }
    }

    /**
     * CPU burnt by a waiter while another JVM holds the lock.
     *
     * @param cpuMillisPerSecond the waiter process's CPU time (user+system, all its threads) over the window,
     *     per second of window
     * @param exclusionBroken whether the waiter got the lock while the holder still held it
     */
    record BlockedResult(double cpuMillisPerSecond, boolean exclusionBroken) {}

    /**
     * Starts a holder, then a waiter; once the waiter has announced that it is about to acquire, lets
     * {@code settle} pass (its start-up compilation winding down), meters its CPU time over {@code window},
     * then lets the holder release.
     */
    BlockedResult blockedWaiter(String contender, Duration settle, Duration window)
            throws IOException, InterruptedException {
        Path run = newRun("blocked-" + contender);
        Path boardFile = run.resolve("board");
        String lock = run.resolve("lock").toString();
        try (SharedBoard board = SharedBoard.map(boardFile, HarnessChild.Blocked.SLOTS);
                Children children = new Children(run)) {
            children.start("hold", contender, boardFile.toString(), lock, "0");
            children.awaitBoard(board, HarnessChild.Blocked.HELD, 1);
            Process waiter = children.start("wait", contender, boardFile.toString(), lock, "1");
            children.awaitBoard(board, HarnessChild.Blocked.ANNOUNCED, 1);
            pause(settle);
            Duration before = cpu(waiter);
            long start = System.nanoTime();
            pause(window);
            Duration after = cpu(waiter);
            long elapsed = System.nanoTime() - start;
            board.set(HarnessChild.Blocked.RELEASE, 1);
            children.awaitSuccess();
            double perSecond = (after.minus(before).toNanos() / 1e6) / (elapsed / 1e9);
            return new BlockedResult(perSecond, board.get(HarnessChild.Blocked.WAITER_ACQUIRED) == 2);
        }
    }

    /** Descriptor and heap counts before and after locking {@code count} distinct files in one child JVM. */
    record MemoryResult(long fdsBefore, long fdsAfter, long heapBefore, long heapAfter) {
        long fdGrowth() {
            return fdsAfter - fdsBefore;
        }

        long heapGrowth() {
            return heapAfter - heapBefore;
        }
    }

    MemoryResult memory(String contender, int count) throws IOException, InterruptedException {
        Path run = newRun("memory-" + contender);
        try (Children children = new Children(run)) {
            children.start("memory", contender, "-", run.resolve("locks").toString(), "0", Integer.toString(count));
            children.awaitSuccess();
            for (String line : Files.readAllLines(children.stdout(0), StandardCharsets.UTF_8)) {
                if (line.startsWith("memory ")) {
                    String[] f = line.split(" ");
                    return new MemoryResult(
                            Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]));
                }
            }
            throw new IllegalStateException("memory child printed no result; see " + children.stdout(0));
        }
    }

    private Path newRun(String name) throws IOException {
        return Files.createDirectories(workDir.resolve(String.format("%03d-%s", ++runs, name)));
    }

    /** Parks for a measurement window (the workload's duration, not an ordering device). */
    private static void pause(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        long left;
        while ((left = end - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    private static Duration cpu(Process p) {
        return p.info()
                .totalCpuDuration()
                .orElseThrow(() -> new IllegalStateException(
                        "no CPU time for process " + p.pid() + " (ProcessHandle.info() needs /proc on Linux)"));
    }

    /** Child JVMs of one scenario; closing kills and reaps any still running. */
    private static final class Children implements AutoCloseable {
        private final Path run;
        private final List<Process> processes = new ArrayList<>();

        Children(Path run) {
            this.run = run;
        }

        Process start(String... args) throws IOException {
            int n = processes.size();
            List<String> command = new ArrayList<>(javaCommand());
            command.add(HarnessChild.class.getName());
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command)
                    .redirectOutput(stdout(n).toFile())
                    .redirectError(run.resolve("child-" + n + ".err").toFile())
                    .start();
            processes.add(p);
            return p;
        }

        Path stdout(int n) {
            return run.resolve("child-" + n + ".out");
        }

        /** Waits until {@code slot} reaches {@code value}, failing early if a child dies. */
        void awaitBoard(SharedBoard board, int slot, long value) throws IOException {
            long start = System.nanoTime();
            while (board.get(slot) < value) {
                for (int i = 0; i < processes.size(); i++) {
                    if (!processes.get(i).isAlive()) {
                        throw failure(i, "exited with " + processes.get(i).exitValue() + " before the handshake");
                    }
                }
                if (System.nanoTime() - start > HarnessChild.HANDSHAKE_LIMIT_NANOS) {
                    throw new IllegalStateException("harness children in " + run + " never reached the handshake");
                }
                LockSupport.parkNanos(100_000);
            }
        }

        void awaitSuccess() throws IOException, InterruptedException {
            for (int i = 0; i < processes.size(); i++) {
                Process p = processes.get(i);
                if (!p.waitFor(SCENARIO_LIMIT_MINUTES, TimeUnit.MINUTES)) {
                    throw failure(i, "did not finish within " + SCENARIO_LIMIT_MINUTES + " minutes");
                }
                if (p.exitValue() != 0) {
                    throw failure(i, "exited with " + p.exitValue());
                }
            }
        }

        private IllegalStateException failure(int i, String what) throws IOException {
            Path err = run.resolve("child-" + i + ".err");
            String tail = Files.exists(err) ? Files.readString(err, StandardCharsets.UTF_8) : "";
            if (tail.length() > 2000) {
                tail = tail.substring(tail.length() - 2000);
            }
            return new IllegalStateException("harness child " + i + " in " + run + " " + what + "; stderr:\n" + tail);
        }

        @Override
        public void close() throws InterruptedException {
            for (Process p : processes) {
                p.destroyForcibly();
            }
            for (Process p : processes) {
                p.waitFor();
            }
        }
    }

    /** {@code java} with this JVM's class path and the flags every child gets. */
    static List<String> javaCommand() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(childJvmFlags());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        return command;
    }

    /**
     * System property with extra flags for harness children and JMH forks, split at spaces: for profiling,
     * e.g. {@code -Dlockcache.bench.childJvmArgs=-XX:StartFlightRecording=filename=/tmp/jfr/,settings=profile}.
     */
    static final String CHILD_JVM_ARGS_PROPERTY = "lockcache.bench.childJvmArgs";

    /** Flags for harness children and JMH forks alike. */
    static List<String> childJvmFlags() {
        List<String> flags =
                new ArrayList<>(List.of("-Xmx256m", "-Xss512k", "-Daether.named.file-lock.deleteLockFiles=false"));
        if (Runtime.version().feature() >= 24) {
            flags.add("--enable-native-access=ALL-UNNAMED");
        }
        String extra = System.getProperty(CHILD_JVM_ARGS_PROPERTY, "").strip();
        if (!extra.isEmpty()) {
            flags.addAll(List.of(extra.split("\\s+")));
        }
        return flags;
    }
}
