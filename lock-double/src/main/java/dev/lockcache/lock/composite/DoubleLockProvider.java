package dev.lockcache.lock.composite;

import dev.lockcache.lock.flock.FlockLockProvider;
import dev.lockcache.lock.flock.FlockMechanism;
import dev.lockcache.lock.nio.FcntlMechanism;
import dev.lockcache.lock.nio.FileChannelLockProvider;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.KernelLockProvider;
import dev.lockcache.lock.spi.KernelMechanism;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.ProbeResult;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code double} provider: a {@code flock} lock and a classic {@code fcntl} lock ({@code FileChannel}) on the
 * same file, flock first, so that one lockcache lock excludes util-linux {@code flock(1)} and Python's {@code
 * fcntl.flock} as well as {@code fcntl.lockf}, OFD locks and other Java programs. Opt-in: it is used only when
 * named, so it never makes discovery ambiguous. The composite inherits nothing to a child process: its fcntl half
 * cannot outlive the JVM.
 */
public final class DoubleLockProvider extends KernelLockProvider {

    /** The provider's name. */
    public static final String NAME = "double";

    private static final Set<LockFeature> FEATURES = Set.copyOf(EnumSet.of(
            LockFeature.SHARED,
            LockFeature.CROSS_PROCESS,
            LockFeature.RELEASED_ON_CRASH,
            LockFeature.BLOCKING_HANDOFF));

    private final FlockLockProvider flockHalf = new FlockLockProvider();
    private final FileChannelLockProvider fcntlHalf = new FileChannelLockProvider();

    /** The provider as {@link java.util.ServiceLoader} creates it. */
    public DoubleLockProvider() {
        this(path -> {});
    }

    /** For tests: a hook run after opening and before each lock attempt. */
    DoubleLockProvider(Consumer<Path> beforeLock) {
        super(NAME, FEATURES, DoubleLockProvider::checkAvailability, newMechanism(), beforeLock);
    }

    private static Availability checkAvailability() {
        Availability flock = new FlockLockProvider().availability();
        return flock.available()
                ? Availability.available("flock(2) and FileChannel locks together: " + flock.reason())
                : Availability.unavailable("its flock half is unavailable: " + flock.reason());
    }

    private static KernelMechanism newMechanism() {
        KernelMechanism fcntl = new FcntlMechanism();
        if (!new FlockLockProvider().availability().available()) {
            return fcntl; // never used: the provider says it is unavailable
        }
        return new DoubleMechanism(new FlockMechanism(), fcntl);
    }

    @Override
    public boolean optIn() {
        return true;
    }

    /** Both halves must exclude on {@code directory}. */
    @Override
    public ProbeResult probe(Path directory) {
        ProbeResult flock = flockHalf.probe(directory);
        if (!flock.usable()) {
            return new ProbeResult(
                    flock.directory(), flock.verdict(), flock.fileSystemType(), "flock half: " + flock.reason());
        }
        ProbeResult fcntl = fcntlHalf.probe(directory);
        if (!fcntl.usable()) {
            return new ProbeResult(
                    fcntl.directory(), fcntl.verdict(), fcntl.fileSystemType(), "fcntl half: " + fcntl.reason());
        }
        return new ProbeResult(
                flock.directory(),
                ProbeResult.Verdict.EXCLUDES,
                flock.fileSystemType(),
                "both halves exclude: " + flock.reason() + "; " + fcntl.reason());
    }

    @Override
    public void close() {
        super.close();
        flockHalf.close();
        fcntlHalf.close();
    }

    @Override
    public String toString() {
        return "DoubleLockProvider[" + NAME + "]";
    }
}
