package dev.lockcache.examples;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * An example provider: the shell's {@code mkdir LOCK.d} idiom, where creating a directory is the atomic step
 * that only one process can win. Exclusive only; a crashed holder leaves its directory behind (no stale-holder
 * recovery); no owner record. lockcache's table gives it reentrancy, thread exclusion, timeouts with backoff,
 * wait notices and asynchronous acquisition for free.
 */
public final class MkdirLockProvider implements LockProvider {

    /** The name callers choose it by ({@code -Dlockcache.provider=example-mkdir}). */
    public static final String NAME = "example-mkdir";

    private record Held(Path path, Path directory) implements HeldLock {
        @Override
        public LockMode mode() {
            return LockMode.EXCLUSIVE;
        }

        @Override
        public long fencingToken() {
            return 0; // no counter shared between processes: a constant, never a per-JVM count
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<LockFeature> features() {
        return EnumSet.of(LockFeature.CROSS_PROCESS, LockFeature.CROSS_HOST);
    }

    @Override
    public Availability availability() {
        return Availability.available("mkdir is atomic on every filesystem the JDK writes to");
    }

    @Override
    public ProbeResult probe(Path directory) {
        Path probe = directory.resolve(".example-mkdir-probe.d");
        try {
            Files.createDirectory(probe);
            try {
                Files.createDirectory(probe);
                return new ProbeResult(directory, ProbeResult.Verdict.DOES_NOT_EXCLUDE, "unknown", "mkdir twice won");
            } catch (FileAlreadyExistsException expected) {
                return new ProbeResult(directory, ProbeResult.Verdict.EXCLUDES, "unknown", "a second mkdir failed");
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException e) {
            return new ProbeResult(directory, ProbeResult.Verdict.UNAVAILABLE, "unknown", "cannot mkdir: " + e);
        }
    }

    @Override
    public Optional<HeldLock> tryLock(LockRequest request) throws IOException {
        Path directory = request.path().resolveSibling(request.path().getFileName() + ".d");
        try {
            Files.createDirectory(directory);
        } catch (FileAlreadyExistsException held) {
            return Optional.empty(); // another process holds it; the framework's wait loop backs off and retries
        }
        return Optional.of(new Held(request.path(), directory));
    }

    @Override
    public void release(HeldLock lock) throws IOException {
        Files.delete(((Held) lock).directory());
    }

    @Override
    public LockOwner readOwner(Path lockFile) {
        return new LockOwner.Absent(); // this mechanism keeps no record of its holder
    }
}
