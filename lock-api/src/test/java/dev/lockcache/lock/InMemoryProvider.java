package dev.lockcache.lock;

import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.ProbeResult;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A provider whose "OS" is a map in memory, for tests of the in-JVM table and the wait loop. It plays the
 * kernel strictly: it fails the test (by counting a violation) if the table ever asks it to lock a path this
 * JVM already holds, or to release a lock twice. Other processes are simulated with {@link #holdElsewhere}.
 */
final class InMemoryProvider implements LockProvider {

    private final Map<Path, HeldLock> held = new ConcurrentHashMap<>();
    private final Set<Path> heldElsewhere = ConcurrentHashMap.newKeySet();
    private final AtomicInteger violations = new AtomicInteger();
    private final AtomicLong generation = new AtomicLong();
    private final LongConsumer sleeper;

    /** With {@code sleeper} standing in for the wait between polls (e.g. advancing a fake ticker). */
    InMemoryProvider(LongConsumer sleeper) {
        this.sleeper = sleeper;
    }

    private record Held(Path path, LockMode mode, long fencingToken) implements HeldLock {}

    void holdElsewhere(Path path) {
        heldElsewhere.add(path);
    }

    void releaseElsewhere(Path path) {
        heldElsewhere.remove(path);
    }

    int violations() {
        return violations.get();
    }

    int heldCount() {
        return held.size();
    }

    @Override
    public String name() {
        return "in-memory";
    }

    @Override
    public Set<LockFeature> features() {
        return EnumSet.of(LockFeature.SHARED);
    }

    @Override
    public Availability availability() {
        return Availability.available("test double");
    }

    @Override
    public ProbeResult probe(Path directory) {
        return new ProbeResult(directory, ProbeResult.Verdict.EXCLUDES, "memory", "test double");
    }

    @Override
    public Optional<HeldLock> tryLock(LockRequest request) {
        if (heldElsewhere.contains(request.path())) {
            return Optional.empty();
        }
        Held lock = new Held(request.path(), request.mode(), generation.incrementAndGet());
        if (held.putIfAbsent(request.path(), lock) != null) {
            violations.incrementAndGet(); // the table let two threads of one JVM reach the OS for one path
        }
        return Optional.of(lock);
    }

    @Override
    public Optional<HeldLock> awaitLock(LockRequest request, long pollNanos, long remainingNanos)
            throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        sleeper.accept(pollNanos);
        return Optional.empty();
    }

    @Override
    public void release(HeldLock lock) {
        if (!held.remove(lock.path(), lock)) {
            violations.incrementAndGet();
        }
    }

    @Override
    public LockOwner readOwner(Path lockFile) {
        return new LockOwner.Absent();
    }
}
