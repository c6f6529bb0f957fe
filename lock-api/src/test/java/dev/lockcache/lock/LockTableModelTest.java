package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random schedules of acquire, try, release and interrupt on a few paths by a few threads, checked against
 * a reference model after every step: no exclusive holder beside any other holder, reentrant holds counted
 * per thread, an upgrade always refused, the OS lock taken once per JVM and released exactly when the last
 * holder leaves, and nothing left behind after interrupts.
 */
class LockTableModelTest {

    private static final int THREADS = 3;
    private static final int PATHS = 2;

    @TempDir
    Path dir;

    /** Who holds what, as granted; checked at every grant and release. */
    private static final class Model {
        private final Map<Integer, Map<Thread, int[]>> holds = new HashMap<>(); // path -> thread -> {excl, shared}
        private final List<String> violations = new ArrayList<>();

        synchronized void granted(int path, Thread thread, LockMode mode) {
            Map<Thread, int[]> byThread = holds.computeIfAbsent(path, p -> new HashMap<>());
            for (Map.Entry<Thread, int[]> other : byThread.entrySet()) {
                if (other.getKey() == thread) {
                    continue;
                }
                int[] counts = other.getValue();
                if (counts[0] > 0 || (mode == LockMode.EXCLUSIVE && counts[1] > 0)) {
                    violations.add(mode + " granted on path " + path + " to " + thread.getName() + " while "
                            + other.getKey().getName() + " holds " + counts[0] + " exclusive, " + counts[1]
                            + " shared");
                }
            }
            int[] mine = byThread.computeIfAbsent(thread, t -> new int[2]);
            mine[mode == LockMode.EXCLUSIVE ? 0 : 1]++;
        }

        synchronized void released(int path, Thread thread, LockMode mode) {
            int[] mine = holds.get(path).get(thread);
            mine[mode == LockMode.EXCLUSIVE ? 0 : 1]--;
            if (mine[0] == 0 && mine[1] == 0) {
                holds.get(path).remove(thread);
            }
        }

        synchronized boolean holdsShared(int path, Thread thread) {
            int[] mine = holds.getOrDefault(path, Map.of()).get(thread);
            return mine != null && mine[1] > 0 && mine[0] == 0;
        }

        synchronized boolean holdsExclusive(int path, Thread thread) {
            int[] mine = holds.getOrDefault(path, Map.of()).get(thread);
            return mine != null && mine[0] > 0;
        }

        synchronized boolean anyHolder() {
            return holds.values().stream().anyMatch(m -> !m.isEmpty());
        }
    }

    private record Held(int path, LockMode mode, LockHandle handle) {}

    @Test
    void randomSchedulesKeepTheInvariants() {
        qt().forAll(
                        lists().of(integers().between(0, 999)).ofSizeBetween(1, 30),
                        lists().of(integers().between(0, 999)).ofSizeBetween(1, 30),
                        lists().of(integers().between(0, 999)).ofSizeBetween(1, 30))
                .checkAssert((a, b, c) -> runSchedule(List.of(a, b, c)));
    }

    private void runSchedule(List<List<Integer>> programs) {
        InMemoryProvider provider = new InMemoryProvider(nanos -> {
            try {
                TimeUnit.NANOSECONDS.sleep(Math.min(nanos, 50_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        FileLocks locks = FileLocks.using(provider);
        Model model = new Model();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CyclicBarrier start = new CyclicBarrier(THREADS);
        Thread[] threads = new Thread[THREADS];
        for (int t = 0; t < THREADS; t++) {
            List<Integer> program = programs.get(t);
            threads[t] = new Thread(
                    () -> {
                        try {
                            start.await();
                            runProgram(locks, model, program, threads);
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    },
                    "worker-" + t);
        }
        for (Thread thread : threads) {
            thread.start();
        }
        for (Thread thread : threads) {
            try {
                thread.join(TimeUnit.MINUTES.toMillis(1));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertThat(thread.isAlive()).as("schedule deadlocked").isFalse();
        }
        assertThat(failures).isEmpty();
        assertThat(model.violations).isEmpty();
        assertThat(model.anyHolder()).isFalse();
        assertThat(provider.violations())
                .as("OS lock taken twice or released twice")
                .isZero();
        assertThat(provider.heldCount()).as("OS locks left held").isZero();
        assertThat(FileLocks.pathsInUse()).as("table entries left behind").isZero();
    }

    private void runProgram(FileLocks locks, Model model, List<Integer> program, Thread[] threads) {
        Thread me = Thread.currentThread();
        Deque<Held> mine = new ArrayDeque<>();
        try {
            runOps(locks, model, program, threads, me, mine);
        } finally {
            Thread.interrupted();
            while (!mine.isEmpty()) {
                Held held = mine.pop();
                model.released(held.path(), me, held.mode());
                held.handle().close();
            }
        }
    }

    private void runOps(
            FileLocks locks, Model model, List<Integer> program, Thread[] threads, Thread me, Deque<Held> mine) {
        for (int op : program) {
            int path = op % PATHS;
            LockMode mode = (op / PATHS) % 2 == 0 ? LockMode.EXCLUSIVE : LockMode.SHARED;
            Path file = dir.resolve("p" + path + ".lock");
            int kind = (op / (PATHS * 2)) % 10;
            if (kind < 5) {
                Duration timeout = kind < 2 ? Duration.ZERO : Duration.ofNanos(200_000L * kind);
                boolean upgrade = mode == LockMode.EXCLUSIVE && model.holdsShared(path, me);
                boolean reentrant = model.holdsExclusive(path, me);
                try {
                    LockHandle handle = locks.acquire(file, new LockOptions(mode, timeout, Backoff.DEFAULT, "model"));
                    assertThat(upgrade).as("upgrade granted").isFalse();
                    model.granted(path, me, mode);
                    mine.push(new Held(path, mode, handle));
                } catch (LockUpgradeException e) {
                    assertThat(upgrade).as("refused a non-upgrade").isTrue();
                } catch (LockTimeoutException e) {
                    assertThat(reentrant)
                            .as("a reentrant acquisition timed out")
                            .isFalse();
                    assertThat(upgrade).isFalse();
                } catch (InterruptedException e) {
                    // nothing was granted; another worker may interrupt us again at any moment, so the
                    // flag itself proves nothing here
                }
            } else if (kind < 9) {
                if (!mine.isEmpty()) {
                    Held held = kind == 8 ? mine.removeLast() : mine.pop(); // out of order sometimes
                    model.released(held.path(), me, held.mode());
                    held.handle().close();
                }
            } else {
                threads[op % threads.length].interrupt();
            }
        }
    }
}
