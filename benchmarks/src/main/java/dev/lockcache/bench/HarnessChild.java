package dev.lockcache.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * The child side of the cross-process harness: one JVM contending for one lock, coordinated with its peer and
 * the parent only through the {@link SharedBoard}. Usage: {@code HarnessChild SCENARIO CONTENDER BOARD LOCK
 * INDEX [ARGS...]}; see the scenario methods. Exit code 0 means the results on the board are complete.
 */
public final class HarnessChild {

    /** How long any handshake may take before a child gives up (liveness only; never a measured time). */
    static final long HANDSHAKE_LIMIT_NANOS = TimeUnit.MINUTES.toNanos(5);

    /** Board slots of the hand-off scenario. */
    static final class Handoff {
        static final int READY = 0;
        /** {@code r + 1} once round {@code r} is held. */
        static final int ACQUIRED = 1;
        /** {@code r} once the waiter for round {@code r} is about to call acquire. */
        static final int ANNOUNCED = 2;

        static final int FIRST_STAMP = 8;

        static int releasedAt(int round) {
            return FIRST_STAMP + 2 * round;
        }

        static int latency(int round) {
            return FIRST_STAMP + 2 * round + 1;
        }

        static int slots(int rounds) {
            return FIRST_STAMP + 2 * rounds;
        }
    }

    /** Board slots of the contention scenario. */
    static final class Contention {
        static final int READY = 0;
        /** The {@code System.nanoTime()} at which to stop; 0 until the parent says go. */
        static final int STOP_AT = 1;
        /** {@code index + 1} of the JVM that acquired last. */
        static final int LAST_OWNER = 2;
        /** Holders inside the critical section right now, all JVMs. */
        static final int INSIDE = 3;
        /** Times a holder found someone else inside: mutual exclusion broken. */
        static final int VIOLATIONS = 4;

        static int acquisitions(int index) {
            return 8 + index;
        }

        static int ownerChanges(int index) {
            return 16 + index;
        }

        static final int SLOTS = 24;
    }

    /** Board slots of the blocked-waiter scenario. */
    static final class Blocked {
        static final int HELD = 0;
        static final int ANNOUNCED = 1;
        static final int RELEASE = 2;
        static final int WAITER_ACQUIRED = 3;
        static final int SLOTS = 4;
    }

    private HarnessChild() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            throw new IllegalArgumentException(
                    "usage: HarnessChild SCENARIO CONTENDER BOARD LOCK INDEX [ARGS...], got " + List.of(args));
        }
        String scenario = args[0];
        Contender contender = args[1].equals("-") ? null : Contenders.named(args[1]);
        Path board = Path.of(args[2]);
        Path lock = Path.of(args[3]);
        int index = Integer.parseInt(args[4]);
        switch (scenario) {
            case "handoff" ->
                handoff(
                        contender,
                        board,
                        lock,
                        index,
                        Integer.parseInt(args[5]),
                        Long.parseLong(args[6]),
                        Long.parseLong(args[7]));
            case "contention" -> contention(contender, board, lock, index, Integer.parseInt(args[5]));
            case "hold" -> hold(contender, board, lock);
            case "wait" -> await(contender, board, lock);
            case "memory" -> memory(contender, lock, Integer.parseInt(args[5]));
            default ->
                throw new IllegalArgumentException(
                        "unknown harness scenario '" + scenario + "'; known: handoff, contention, hold, wait, memory");
        }
    }

    /**
     * Two children pass the lock back and forth for {@code rounds} rounds; child {@code r % 2} acquires
     * round {@code r}. The waiter writes "about to acquire round r" to the board and calls acquire; the
     * holder waits for that announcement, keeps holding for {@code holdNanos} (the workload, long enough that
     * the waiter is blocked in its acquire by then), stamps {@code System.nanoTime()} and releases. The
     * waiter stamps {@code System.nanoTime()} as soon as acquire returns; the difference is the hand-off
     * latency of round {@code r}. Before its next round a child waits until its peer holds the lock, so it
     * never re-takes the lock it just released.
     *
     * <p>{@code jitterNanos} adds a uniformly random extra hold in {@code [0, jitterNanos)}. Kernel waiters
     * do not care; for a waiter polling every P ms, a fixed 2 ms hold would always release just after its
     * first failed poll and measure P − 2 ms, so the polled baselines get a jitter of one period and are
     * measured at a random phase, as a real caller would meet them.
     */
    static void handoff(
            Contender contender, Path boardFile, Path lock, int index, int rounds, long holdNanos, long jitterNanos)
            throws IOException, InterruptedException {
        try (SharedBoard board = SharedBoard.map(boardFile, Handoff.slots(rounds));
                Contender.Session session = contender.open(lock)) {
            board.add(Handoff.READY, 1);
            board.awaitAtLeast(Handoff.READY, 2, HANDSHAKE_LIMIT_NANOS);
            for (int r = index; r < rounds; r += 2) {
                Contender.Held held;
                if (r == 0) {
                    held = session.acquire();
                } else {
                    board.awaitAtLeast(Handoff.ACQUIRED, r, HANDSHAKE_LIMIT_NANOS);
                    board.set(Handoff.ANNOUNCED, r);
                    held = session.acquire();
                    long acquiredAt = System.nanoTime();
                    board.set(Handoff.latency(r), acquiredAt - board.get(Handoff.releasedAt(r)));
                }
                board.set(Handoff.ACQUIRED, r + 1);
                if (r + 1 < rounds) {
                    board.awaitAtLeast(Handoff.ANNOUNCED, r + 1, HANDSHAKE_LIMIT_NANOS);
                    holdFor(holdNanos
                            + (jitterNanos > 0 ? ThreadLocalRandom.current().nextLong(jitterNanos) : 0));
                    board.set(Handoff.releasedAt(r + 1), System.nanoTime());
                }
                held.release();
            }
        }
    }

    /**
     * {@code threads} threads of this JVM take the lock over and over with an empty critical section until
     * the parent's stop time. Inside, each holder checks nobody else is (across JVMs) and records whether
     * the previous owner was another JVM.
     */
    static void contention(Contender contender, Path boardFile, Path lock, int index, int threads)
            throws IOException, InterruptedException {
        try (SharedBoard board = SharedBoard.map(boardFile, Contention.SLOTS)) {
            List<Contender.Session> sessions = new ArrayList<>();
            Contender.Session shared = contender.threadSafe() ? contender.open(lock) : null;
            long[] acquisitions = new long[threads];
            long[] changes = new long[threads];
            List<Thread> workers = new ArrayList<>();
            Throwable[] failure = new Throwable[1];
            try {
                for (int t = 0; t < threads; t++) {
                    sessions.add(shared != null ? shared : contender.open(lock));
                }
                warmUp(contender, lock);
                board.add(Contention.READY, 1);
                board.awaitAtLeast(Contention.STOP_AT, 1, HANDSHAKE_LIMIT_NANOS);
                long stopAt = board.get(Contention.STOP_AT);
                long me = index + 1;
                for (int t = 0; t < threads; t++) {
                    int slot = t;
                    Contender.Session session = sessions.get(t);
                    Thread worker = new Thread(
                            () -> {
                                try {
                                    while (System.nanoTime() - stopAt < 0) {
                                        Contender.Held held = session.acquire();
                                        if (board.add(Contention.INSIDE, 1) != 0) {
                                            board.add(Contention.VIOLATIONS, 1);
                                        }
                                        if (System.nanoTime() - stopAt < 0) {
                                            acquisitions[slot]++;
                                            long previous = board.swap(Contention.LAST_OWNER, me);
                                            if (previous != 0 && previous != me) {
                                                changes[slot]++;
                                            }
                                        }
                                        board.add(Contention.INSIDE, -1);
                                        held.release();
                                    }
                                } catch (Throwable e) {
                                    synchronized (failure) {
                                        failure[0] = e;
                                    }
                                }
                            },
                            "contender-" + t);
                    workers.add(worker);
                    worker.start();
                }
                for (Thread worker : workers) {
                    worker.join();
                }
            } finally {
                for (Contender.Session s : shared != null ? List.of(shared) : sessions) {
                    s.close();
                }
            }
            synchronized (failure) {
                if (failure[0] != null) {
                    throw new IllegalStateException("a contender thread failed", failure[0]);
                }
            }
            long acquired = 0;
            long changed = 0;
            for (int t = 0; t < threads; t++) {
                acquired += acquisitions[t];
                changed += changes[t];
            }
            board.set(Contention.acquisitions(index), acquired);
            board.set(Contention.ownerChanges(index), changed);
        }
    }

    /** Takes the lock, says so, and holds it until the parent says release. */
    static void hold(Contender contender, Path boardFile, Path lock) throws IOException, InterruptedException {
        try (SharedBoard board = SharedBoard.map(boardFile, Blocked.SLOTS);
                Contender.Session session = contender.open(lock)) {
            Contender.Held held = session.acquire();
            board.set(Blocked.HELD, 1);
            board.awaitAtLeast(Blocked.RELEASE, 1, TimeUnit.HOURS.toNanos(1));
            held.release();
        }
    }

    /** Once the lock is held elsewhere, says "about to acquire" and blocks in acquire; the parent meters it. */
    static void await(Contender contender, Path boardFile, Path lock) throws IOException, InterruptedException {
        try (SharedBoard board = SharedBoard.map(boardFile, Blocked.SLOTS);
                Contender.Session session = contender.open(lock)) {
            warmUp(contender, lock);
            board.awaitAtLeast(Blocked.HELD, 1, HANDSHAKE_LIMIT_NANOS);
            board.set(Blocked.ANNOUNCED, 1);
            Contender.Held held = session.acquire();
            if (board.get(Blocked.RELEASE) == 0) {
                board.set(Blocked.WAITER_ACQUIRED, 2); // acquired while the holder still held: broken exclusion
            } else {
                board.set(Blocked.WAITER_ACQUIRED, 1);
            }
            held.release();
        }
    }

    /**
     * Locks and releases {@code count} distinct files twice over (the first pass fills whatever bounded
     * caches the mechanism keeps), measuring open descriptors and heap after a GC before and after the
     * second pass. Prints {@code memory FDS_BEFORE FDS_AFTER HEAP_BEFORE HEAP_AFTER}.
     */
    static void memory(Contender contender, Path directory, int count) throws IOException, InterruptedException {
        Files.createDirectories(directory);
        lockEach(contender, directory, "warm-", count);
        long fdsBefore = openDescriptors();
        long heapBefore = usedHeapAfterGc();
        lockEach(contender, directory, "run-", count);
        long fdsAfter = openDescriptors();
        long heapAfter = usedHeapAfterGc();
        System.out.println("memory " + fdsBefore + " " + fdsAfter + " " + heapBefore + " " + heapAfter);
    }

    private static void lockEach(Contender contender, Path directory, String prefix, int count)
            throws IOException, InterruptedException {
        for (int i = 0; i < count; i++) {
            try (Contender.Session session = contender.open(directory.resolve(prefix + i + ".lock"))) {
                session.acquire().release();
            }
        }
    }

    static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * Locks and releases a side file beside {@code lock} a few times, so the mechanism's one-time start-up
     * (native library binding, stub generation, provider probes, JIT) is not counted in a timed window. Enough
     * cycles (20,000) for the JIT to compile the acquisition path, as it is in any long-running holder.
     */
    private static void warmUp(Contender contender, Path lock) throws IOException, InterruptedException {
        try (Contender.Session side = contender.open(lock.resolveSibling(lock.getFileName() + ".warm-up"))) {
            int cycles = contender.name().equals(Contenders.SEED_POLLED) ? 200 : 20_000;
            for (int i = 0; i < cycles; i++) {
                side.acquire().release();
            }
        }
    }

    /** Keeps the lock for {@code nanos}: parks, then spins the last stretch so the end is sharp. */
    private static void holdFor(long nanos) {
        long end = System.nanoTime() + nanos;
        long left;
        while ((left = end - System.nanoTime()) > 100_000) {
            LockSupport.parkNanos(left - 100_000);
        }
        while (end - System.nanoTime() > 0) {
            Thread.onSpinWait();
        }
    }
}
