package dev.lockcache.it;

import dev.lockcache.cache.DatasetCache;
import dev.lockcache.cache.DatasetSource;
import dev.lockcache.cache.DatasetSpec;
import dev.lockcache.cache.FetchPolicy;
import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockException;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.ProviderChoice;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.StringJoiner;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * A scripted child JVM for the fault suites: {@code FaultChild PROVIDER} reads one command a line from standard
 * input and answers with one line (the first word says what happened), so a test drives it step by step through
 * handshakes while strace, a mount namespace, libfaketime or a signal works on it. Every handle it acquires gets
 * a loss listener that prints {@code LOST <reason>} at once. Commands:
 *
 * <ul>
 *   <li>{@code try PATH MODE}: {@code ACQUIRED <token>} (kept), {@code BUSY} or {@code FAILED <message>};
 *   <li>{@code acquire PATH MODE MILLIS}: {@code ACQUIRED <token> <ms>}, {@code TIMEOUT <ms>} or {@code FAILED
 *       <ms> <message>}, the time measured on this JVM's monotonic clock;
 *   <li>{@code acquire-async PATH MODE MILLIS}: {@code STARTED} at once, {@code WAITING} when the wait begins, and the answer of {@code acquire} later as {@code ASYNC <answer>};
 *   <li>{@code release}: the newest handle; {@code RELEASED} or {@code RELEASE-FAILED <message>};
 *   <li>{@code work MARKER}: the critical section's entry: {@code REFUSED <reason>} if the newest handle is
 *       lost, else creates MARKER exclusively: {@code IN} or {@code OVERLAP}; {@code leave MARKER}: {@code OUT};
 *   <li>{@code count LOCK COUNTER INCREMENTS}: that many acquisitions, each adding 1 to COUNTER non-atomically
 *       with the marker check beside it; {@code DONE <tokens, comma-separated> release-errors=<n> [last error]}
 *       (a release that reports an error still drops the hold, so counting goes on), or {@code OVERLAP} / {@code
 *       FAILED};
 *   <li>{@code race DIR NAMES ROUNDS [unlink]}: tries on many lock files an attacker races on, {@code DONE
 *       safe=.. busy=.. refused=.. wrong=.. [examples] reasons={...}}; with {@code unlink} every safe lock file is
 *       removed while still held, so the next try creates it again;
 *   <li>{@code paths}: {@code PATHS <paths in use in this JVM>}; {@code clock}: {@code CLOCK <wall millis>};
 *   <li>{@code fetch ROOT KEY POLICY SIZE SEED [MIRROR]}: a {@link DatasetCache} fetch of a producer writing
 *       SIZE pseudo-random bytes from SEED: {@code FETCHED <sha256 of the result>} or {@code FETCH-FAILED
 *       <message>};
 *   <li>{@code debris DIR}: {@code DEBRIS <names of .part/.tmp/.removing files under DIR>};
 *   <li>{@code fill FILE}: writes FILE until the filesystem is full, {@code FILLED <bytes>}; {@code remove FILE};
 *   <li>{@code run COMMAND...}: runs it, {@code EXIT <status>}; {@code sh SCRIPT...}: the same through {@code sh
 *       -c}; {@code ls DIR}: {@code LS <sorted names>}; {@code exit}.
 * </ul>
 */
public final class FaultChild {

    private final FileLocks locks;
    private final Deque<LockHandle> held = new LinkedBlockingDeque<>();

    private FaultChild(FileLocks locks) {
        this.locks = locks;
    }

    public static void main(String[] args) throws Exception {
        FaultChild child = new FaultChild(FileLocks.using(LockProviders.named(args[0])));
        child.locks.provider().availability(); // native libraries load before the test starts working on us
        // the thread that runs every command, by its kernel id, for strace to attach to
        String thread = Files.readSymbolicLink(Path.of("/proc/thread-self"))
                .getFileName()
                .toString();
        say("READY " + ProcessHandle.current().pid() + " " + thread);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.equals("exit")) {
            try {
                say(child.answer(line.split(" ")));
            } catch (RuntimeException | IOException e) {
                say("ERROR " + oneLine(e));
            }
        }
        while (!child.held.isEmpty()) {
            child.release();
        }
        say("BYE");
    }

    private String answer(String[] w) throws IOException, InterruptedException {
        return switch (w[0]) {
            case "try" -> tryOnce(Path.of(w[1]), LockMode.valueOf(w[2]));
            case "acquire" -> acquire(Path.of(w[1]), LockMode.valueOf(w[2]), Long.parseLong(w[3]));
            case "acquire-async" -> {
                Path path = Path.of(w[1]);
                Thread waiter = new Thread(() -> {
                    try {
                        say("ASYNC " + acquire(path, LockMode.valueOf(w[2]), Long.parseLong(w[3])));
                    } catch (InterruptedException e) {
                        say("ASYNC INTERRUPTED");
                    }
                });
                waiter.start();
                Thread watcher = new Thread(() -> reportWaiting(path));
                watcher.setDaemon(true);
                watcher.start();
                yield "STARTED";
            }
            case "release" -> release();
            case "work" -> work(Path.of(w[1]));
            case "leave" -> {
                Files.delete(Path.of(w[1]));
                yield "OUT";
            }
            case "race" ->
                race(
                        Path.of(w[1]),
                        Integer.parseInt(w[2]),
                        Integer.parseInt(w[3]),
                        w.length > 4 && w[4].equals("unlink"));
            case "count" -> count(Path.of(w[1]), Path.of(w[2]), Integer.parseInt(w[3]));
            case "paths" -> "PATHS " + FileLocks.pathsInUse();
            case "clock" -> "CLOCK " + System.currentTimeMillis();
            case "fetch" -> fetch(w);
            case "ls" -> {
                try (Stream<Path> names = Files.list(Path.of(w[1]))) {
                    yield "LS "
                            + String.join(
                                    " ",
                                    names.map(p -> p.getFileName().toString())
                                            .sorted()
                                            .toList());
                }
            }
            case "debris" -> "DEBRIS " + debris(Path.of(w[1]));
            case "fill" -> "FILLED " + fill(Path.of(w[1]));
            case "remove" -> {
                Files.deleteIfExists(Path.of(w[1]));
                yield "REMOVED";
            }
            case "run" -> "EXIT " + run(Arrays.asList(w).subList(1, w.length));
            case "sh" ->
                "EXIT "
                        + run(List.of(
                                "sh", "-c", String.join(" ", Arrays.asList(w).subList(1, w.length))));
            default -> throw new IllegalArgumentException("unknown command " + w[0]);
        };
    }

    private String tryOnce(Path path, LockMode mode) {
        try {
            var handle = locks.tryAcquire(path, mode);
            if (handle.isEmpty()) {
                return "BUSY";
            }
            keep(handle.get());
            return "ACQUIRED " + handle.get().fencingToken();
        } catch (LockException e) {
            return "FAILED " + oneLine(e);
        }
    }

    private String acquire(Path path, LockMode mode, long millis) throws InterruptedException {
        long start = System.nanoTime();
        try {
            LockHandle handle = locks.acquire(
                    path, LockOptions.exclusive(Duration.ofMillis(millis)).withMode(mode));
            keep(handle);
            return "ACQUIRED " + handle.fencingToken() + " " + since(start);
        } catch (LockTimeoutException e) {
            return "TIMEOUT " + since(start);
        } catch (LockException e) {
            return "FAILED " + since(start) + " " + oneLine(e);
        }
    }

    private void keep(LockHandle handle) {
        handle.onLost((h, reason) -> say("LOST " + reason.replace('\n', ' ')));
        held.push(handle);
    }

    private String release() {
        LockHandle handle = held.pop();
        try {
            handle.close();
            return "RELEASED";
        } catch (LockException e) {
            return "RELEASE-FAILED " + oneLine(e);
        }
    }

    private String work(Path marker) throws IOException {
        LockHandle handle = held.peek();
        if (handle == null) {
            throw new IllegalStateException("work without a held lock");
        }
        if (handle.lost().isPresent()) {
            return "REFUSED " + handle.lost().get().replace('\n', ' ');
        }
        return enter(marker) ? "IN" : "OVERLAP";
    }

    private String count(Path lock, Path counter, int increments) throws IOException, InterruptedException {
        Path marker = counter.resolveSibling(counter.getFileName() + ".inside");
        StringJoiner tokens = new StringJoiner(",");
        int releaseErrors = 0;
        String lastReleaseError = "";
        for (int i = 0; i < increments; i++) {
            LockHandle handle;
            try {
                handle = locks.acquire(lock, LockOptions.exclusive().waitForever());
            } catch (LockException e) {
                return "FAILED after " + i + " increments: " + oneLine(e);
            }
            if (!enter(marker)) {
                return "OVERLAP after " + i + " increments";
            }
            String text = Files.exists(counter) ? Files.readString(counter).strip() : "";
            Files.writeString(counter, Long.toString((text.isEmpty() ? 0 : Long.parseLong(text)) + 1));
            tokens.add(Long.toString(handle.fencingToken()));
            Files.delete(marker);
            try {
                handle.close();
            } catch (LockException e) {
                // the hold is dropped all the same (the API's promise); counted, and reported by the test
                releaseErrors++;
                lastReleaseError = oneLine(e);
            }
        }
        return "DONE " + tokens + " release-errors=" + releaseErrors
                + (releaseErrors > 0 ? " " + lastReleaseError : "");
    }

    /**
     * ROUNDS times over NAMES lock files {@code race-I.lock} in DIR: one try each; a lock taken must stand on a safe
     * file (regular, ours, one link, seen without following links while held); a failure must name the path.
     */
    private String race(Path dir, int names, int rounds, boolean unlink) throws IOException {
        int safe = 0;
        int busy = 0;
        int refused = 0;
        List<String> wrong = new ArrayList<>();
        java.util.Map<String, Integer> reasons = new java.util.TreeMap<>();
        long me = ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < names; i++) {
                Path path = dir.resolve("race-" + i + ".lock");
                try {
                    var handle = locks.tryAcquire(path, LockMode.EXCLUSIVE);
                    if (handle.isEmpty()) {
                        busy++;
                        continue;
                    }
                    try (LockHandle held = handle.get()) {
                        var a = Files.readAttributes(
                                path, "unix:mode,uid,nlink", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                        boolean regular = ((Integer) a.get("mode") & 0170000) == 0100000;
                        if (regular && ((Integer) a.get("uid")).longValue() == me && (Integer) a.get("nlink") == 1) {
                            safe++;
                            if (unlink) { // still holding it: the next try creates it again, racing the attacker
                                Files.delete(path);
                            }
                        } else {
                            wrong.add(path.getFileName() + " held on " + a);
                        }
                    }
                } catch (LockException e) {
                    if (String.valueOf(e.getMessage()).contains(path.toString())) {
                        refused++;
                        String reason = String.valueOf(e.getMessage()).replace(path.toString(), "PATH");
                        reasons.merge(reason.length() > 140 ? reason.substring(0, 140) : reason, 1, Integer::sum);
                    } else {
                        wrong.add(path.getFileName() + " unclear: " + oneLine(e));
                    }
                }
            }
        }
        return "DONE safe=" + safe + " busy=" + busy + " refused=" + refused + " wrong=" + wrong.size() + " "
                + (wrong.isEmpty() ? "" : wrong.subList(0, Math.min(3, wrong.size())) + " ") + "reasons=" + reasons;
    }

    private static boolean enter(Path marker) throws IOException {
        try {
            Files.writeString(marker, Long.toString(ProcessHandle.current().pid()), StandardOpenOption.CREATE_NEW);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    private String fetch(String[] w) throws IOException {
        Path root = Path.of(w[1]);
        String key = w[2];
        FetchPolicy policy = FetchPolicy.valueOf(w[3]);
        byte[] content = content(Integer.parseInt(w[4]), Long.parseLong(w[5]));
        DatasetCache cache = DatasetCache.builder()
                .root(root)
                .providerChoice(ProviderChoice.automatic())
                .register(DatasetSpec.of(
                        key, DatasetSource.producer("test producer", t -> Files.write(t, content)), key + ".bin"))
                .build();
        try {
            Path got = w.length > 6 ? cache.fetch(key, Path.of(w[6]), policy) : cache.fetch(key, policy(cache, policy));
            return "FETCHED " + sha256(Files.readAllBytes(got));
        } catch (RuntimeException e) {
            return "FETCH-FAILED " + oneLine(e);
        }
    }

    private static dev.lockcache.cache.FetchOptions policy(DatasetCache cache, FetchPolicy policy) {
        return cache.defaultOptions().withPolicy(policy);
    }

    /** SIZE deterministic pseudo-random bytes from SEED (the test computes the same). */
    static byte[] content(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Temporary files anywhere under {@code dir}, by their names relative to it, or {@code none}. */
    static String debris(Path dir) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> all = Files.walk(dir)) {
            all.filter(p -> {
                        String name = p.getFileName().toString();
                        return name.endsWith(".part") || name.endsWith(".tmp") || name.endsWith(".removing");
                    })
                    .forEach(p -> found.add(dir.relativize(p).toString()));
        }
        return found.isEmpty() ? "none" : String.join(" ", found);
    }

    private static long fill(Path file) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        long written = 0;
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(chunk);
                written += chunk.length;
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("space")) {
                throw e;
            }
        }
        // the last chunks may sit in the page cache accounting until the close; fill the rest byte-wise
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.APPEND)) {
            while (true) {
                out.write(0);
                out.flush();
                written++;
            }
        } catch (IOException e) {
            return written;
        }
    }

    private static int run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!process.waitFor(1, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            process.waitFor();
            return -1;
        }
        return process.exitValue();
    }

    private static long since(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    static String oneLine(Throwable e) {
        String message = e.getClass().getSimpleName() + ": " + e.getMessage();
        return message.replace('\n', ' ');
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /**
     * Prints {@code WAITING} once a thread of this JVM waits for the lock on {@code path}, checking every
     * millisecond: a wait for a condition the API reports, not an ordering by time.
     */
    private static void reportWaiting(Path path) {
        while (FileLocks.waiters(path) == 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        say("WAITING");
    }
}
