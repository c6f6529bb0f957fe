package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.ProbeFiles;
import dev.lockcache.lock.spi.ProbeResult;
import dev.lockcache.lock.spi.ProbeResult.Verdict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Proves on a directory that flock excludes there: two descriptors opened independently on a probe file are
 * two open file descriptions, so the second's non-blocking try must fail while the first holds the lock.
 */
final class FlockProbe {
    private FlockProbe() {}

    static ProbeResult probe(Path directory, FlockLocks locks, Availability availability) {
        Path dir = directory.toAbsolutePath().normalize();
        String type = "unknown";
        try {
            type = Files.getFileStore(dir).type();
        } catch (IOException e) {
            return new ProbeResult(dir, Verdict.UNAVAILABLE, type, "cannot read the file store of " + dir + ": " + e);
        }
        if (!availability.available()) {
            return new ProbeResult(dir, Verdict.UNAVAILABLE, type, availability.reason());
        }
        Path file = ProbeFiles.unique(dir, "flock");
        NativeFlock.Descriptor first = null;
        NativeFlock.Descriptor second = null;
        boolean firstLocked = false;
        try {
            first = locks.descriptors.open(file);
            second = locks.descriptors.open(file);
            firstLocked = locks.flock.lock(first.fd(), LockMode.EXCLUSIVE, false, file);
            if (!firstLocked) {
                return new ProbeResult(
                        dir, Verdict.UNAVAILABLE, type, "another process holds the probe file " + file + " right now");
            }
            if (locks.flock.lock(second.fd(), LockMode.EXCLUSIVE, false, file)) {
                return new ProbeResult(
                        dir,
                        Verdict.DOES_NOT_EXCLUDE,
                        type,
                        "two descriptors of " + file + " both took flock(LOCK_EX): flock does not exclude here");
            }
            return new ProbeResult(
                    dir,
                    Verdict.EXCLUDES,
                    type,
                    "one descriptor of " + file + " held flock(LOCK_EX) and a second descriptor's try failed");
        } catch (IOException e) {
            return new ProbeResult(dir, Verdict.UNAVAILABLE, type, "cannot flock " + file + ": " + e.getMessage());
        } finally {
            if (first != null) {
                locks.abandon(file, first, firstLocked);
            }
            if (second != null) {
                locks.abandon(file, second, true);
            }
            ProbeFiles.remove(file);
        }
    }
}
