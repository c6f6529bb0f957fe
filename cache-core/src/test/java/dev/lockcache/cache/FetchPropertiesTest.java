package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.debris;
import static dev.lockcache.cache.TestData.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * Random sequences and interleavings of fetches (all policies) against sources that succeed, fail half-way,
 * return wrong or truncated bytes, or trickle slowly, checked against a model after every step: IF_MISSING
 * fetches once, no entry or mirror ever shows partial or unverified bytes, a failed refresh keeps the old entry
 * (the same file, not a copy), and no temporary file outlives the calls.
 *
 * <p>The cache lives on tmpfs where there is one, so that each of QuickTheories' default 1000 examples is cheap;
 * every example uses a fresh key, so it starts from an empty entry.
 */
class FetchPropertiesTest {

    /** What a source does when asked. */
    enum Behaviour {
        OK,
        FAIL,
        CORRUPT,
        TRUNCATED,
        SLOW
    }

    /** One call: a policy, and what the source will do if this call reaches it. */
    record Op(FetchPolicy policy, Behaviour behaviour) {
        static Op decode(int code) {
            return new Op(FetchPolicy.values()[code % 3], Behaviour.values()[code / 3]);
        }

        boolean sourceSucceeds() {
            return behaviour == Behaviour.OK || behaviour == Behaviour.SLOW;
        }
    }

    private static final Gen<Integer> OP_CODES = integers().between(0, 3 * Behaviour.values().length - 1);
    private static final byte[] GOOD = TestData.bytes("the one true content of this dataset, 48 bytes..");

    /** The op of the call running in this thread; the producer reads it (it runs in the calling thread). */
    private static final ThreadLocal<Op> CURRENT = new ThreadLocal<>();

    private static Path base;
    private static DatasetCache cache;
    private static ExecutorService pool;
    private static final AtomicInteger examples = new AtomicInteger();

    /** Per key: calls that reached the source. */
    private static final ConcurrentHashMap<String, AtomicInteger> sourceCalls = new ConcurrentHashMap<>();

    private static final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void setUp() throws IOException {
        Path shm = Path.of("/dev/shm");
        base = Files.isDirectory(shm) && Files.isWritable(shm)
                ? Files.createTempDirectory(shm, "lockcache-props")
                : Files.createTempDirectory("lockcache-props");
        cache = TestData.cache(base.resolve("root")).build();
        pool = Executors.newFixedThreadPool(3);
    }

    @AfterAll
    static void tearDown() throws IOException, InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        try (var walk = Files.walk(base)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Registers a fresh key whose producer acts as the calling thread's op says. */
    private static String freshKey() {
        String key = "k" + examples.incrementAndGet();
        DatasetSpec[] spec = new DatasetSpec[1];
        spec[0] = DatasetSpec.of(
                        key,
                        DatasetSource.producer("scripted", target -> {
                            Op op = CURRENT.get();
                            Path entry = cache.entryPath(key);
                            boolean entryThere = Files.exists(entry, LinkOption.NOFOLLOW_LINKS);
                            if (op.policy() == FetchPolicy.IF_MISSING && entryThere) {
                                violations.add(key + ": IF_MISSING reached the source with an entry present");
                            }
                            if (op.policy() == FetchPolicy.NEVER) {
                                violations.add(key + ": NEVER reached the source");
                            }
                            sourceCalls
                                    .computeIfAbsent(key, k -> new AtomicInteger())
                                    .incrementAndGet();
                            produce(op.behaviour(), target);
                        }),
                        "data.bin")
                .withSha256(sha256(GOOD));
        cache.register(spec[0]);
        return key;
    }

    private static void produce(Behaviour behaviour, Path target) throws IOException {
        switch (behaviour) {
            case OK -> Files.write(target, GOOD);
            case FAIL -> {
                Files.write(target, Arrays.copyOf(GOOD, 10));
                throw new IOException("connection reset (scripted)");
            }
            case CORRUPT -> {
                byte[] bad = GOOD.clone();
                bad[bad.length - 1] ^= 0x20;
                Files.write(target, bad);
            }
            case TRUNCATED -> Files.write(target, Arrays.copyOf(GOOD, GOOD.length - 7));
            case SLOW -> {
                try (var out = Files.newOutputStream(target)) {
                    for (int i = 0; i < GOOD.length; i += 4) {
                        out.write(GOOD, i, Math.min(4, GOOD.length - i));
                        out.flush();
                        Thread.yield();
                    }
                }
            }
        }
    }

    private static long calls(String key) {
        AtomicInteger n = sourceCalls.get(key);
        return n == null ? 0 : n.get();
    }

    /** Runs one op in this thread; returns the bytes read from the result, or the failure. */
    private static Object run(String key, Path mirror, Op op) {
        CURRENT.set(op);
        try {
            return Files.readAllBytes(cache.fetch(key, mirror, op.policy()));
        } catch (CacheException e) {
            return e;
        } catch (IOException e) {
            return new AssertionError("result unreadable right after fetch returned: " + e, e);
        } finally {
            CURRENT.remove();
        }
    }

    private static Object inode(Path file) throws IOException {
        return Files.readAttributes(file, "unix:ino", LinkOption.NOFOLLOW_LINKS).get("ino");
    }

    @Test
    void sequencesOfFetchesFollowTheModel() {
        qt().forAll(lists().of(OP_CODES).ofSizeBetween(1, 4)).checkAssert(codes -> {
            String key = freshKey();
            Path entry = cache.entryPath(key);
            Path mirror = base.resolve("mirrors").resolve(key).resolve("data.bin");
            boolean present = false;
            long expectedCalls = 0;
            Object entryInode = null;
            for (int code : codes) {
                Op op = Op.decode(code);
                boolean reachesSource =
                        op.policy() == FetchPolicy.ALWAYS || (op.policy() == FetchPolicy.IF_MISSING && !present);
                Object result = run(key, mirror, op);
                try {
                    if (reachesSource) {
                        expectedCalls++;
                    }
                    if (op.policy() == FetchPolicy.NEVER && !present) {
                        assertThat(result).isInstanceOf(CacheOfflineException.class);
                    } else if (reachesSource && !op.sourceSucceeds()) {
                        assertThat(result)
                                .isInstanceOf(
                                        op.behaviour() == Behaviour.FAIL
                                                ? CacheFetchException.class
                                                : CacheIntegrityException.class);
                        if (present) {
                            assertThat(inode(entry))
                                    .as("a failed refresh keeps the old entry")
                                    .isEqualTo(entryInode);
                        }
                    } else {
                        assertThat(result).as("op %s", op).isEqualTo(GOOD);
                        assertThat(Files.isSameFile(mirror, entry)).isTrue();
                        Object now = inode(entry);
                        if (reachesSource && present) {
                            assertThat(now).as("a refresh publishes a new file").isNotEqualTo(entryInode);
                        } else if (present) {
                            assertThat(now).isEqualTo(entryInode);
                        }
                        present = true;
                        entryInode = now;
                    }
                    assertThat(calls(key)).isEqualTo(expectedCalls);
                    assertThat(Files.exists(entry)).isEqualTo(present);
                    if (present) {
                        assertThat(Files.readAllBytes(entry)).isEqualTo(GOOD);
                    }
                    if (Files.exists(mirror)) {
                        assertThat(Files.readAllBytes(mirror)).isEqualTo(GOOD);
                    }
                    assertThat(debris(entry.getParent(), mirror.getParent())).isEmpty();
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }
            assertThat(violations).isEmpty();
        });
    }

    @Test
    void interleavingsAcrossThreadsKeepTheInvariants() {
        qt().forAll(lists().of(lists().of(OP_CODES).ofSizeBetween(1, 2)).ofSize(3))
                .checkAssert(perThread -> {
                    String key = freshKey();
                    Path entry = cache.entryPath(key);
                    Path mirror = base.resolve("mirrors").resolve(key).resolve("data.bin");
                    CyclicBarrier start = new CyclicBarrier(perThread.size());
                    List<Future<List<String>>> threads = new ArrayList<>();
                    for (List<Integer> codes : perThread) {
                        threads.add(pool.submit(() -> {
                            List<String> problems = new ArrayList<>();
                            start.await(30, TimeUnit.SECONDS);
                            for (int code : codes) {
                                Op op = Op.decode(code);
                                Object result = run(key, mirror, op);
                                if (result instanceof byte[] bytes) {
                                    if (!Arrays.equals(bytes, GOOD)) {
                                        problems.add(op + " returned unverified bytes");
                                    }
                                } else if (!(result instanceof CacheFetchException
                                        || result instanceof CacheOfflineException)) {
                                    problems.add(op + " failed unexpectedly: " + result);
                                }
                                try {
                                    byte[] seen = Files.readAllBytes(entry);
                                    if (!Arrays.equals(seen, GOOD)) {
                                        problems.add("entry showed partial or unverified bytes after " + op);
                                    }
                                } catch (NoSuchFileException absent) {
                                    // nothing published yet
                                }
                            }
                            return problems;
                        }));
                    }
                    List<String> problems = new ArrayList<>();
                    for (Future<List<String>> t : threads) {
                        try {
                            problems.addAll(t.get(60, TimeUnit.SECONDS));
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    }
                    assertThat(problems).isEmpty();
                    assertThat(violations).isEmpty();
                    boolean anySuccess = cache.entry(key).isPresent();
                    assertThat(Files.exists(entry)).isEqualTo(anySuccess);
                    assertThat(debris(entry.getParent(), mirror.getParent())).isEmpty();
                    if (anySuccess) {
                        assertThat(cache.entry(key).get().sha256()).isEqualTo(sha256(GOOD));
                        try {
                            assertThat(Files.readAllBytes(entry)).isEqualTo(GOOD);
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }
                });
    }
}
