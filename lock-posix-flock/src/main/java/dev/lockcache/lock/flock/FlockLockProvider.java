package dev.lockcache.lock.flock;

import dev.lockcache.lock.spi.KernelDirectory;
import dev.lockcache.lock.spi.KernelLockProvider;
import dev.lockcache.lock.spi.KernelMechanism;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.Mechanism;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code flock} provider: {@code flock(2)} through jnr-posix, shared or exclusive, per open file description
 * (so it also excludes threads of one process that use separate descriptors), released by the kernel when the
 * holder dies, and inherited with its descriptor by a child process. Everything but the system calls ({@link
 * FlockMechanism}) is {@link KernelLockProvider}'s: safe opens, owner records, fencing, foreign files, waits.
 */
public final class FlockLockProvider extends KernelLockProvider {

    /** The provider's name. */
    public static final String NAME = "flock";

    /** What flock can do. */
    static final Set<LockFeature> FEATURES = Set.copyOf(EnumSet.of(
            LockFeature.SHARED,
            LockFeature.CROSS_PROCESS,
            LockFeature.RELEASED_ON_CRASH,
            LockFeature.BLOCKING_HANDOFF));

    /** The provider as {@link java.util.ServiceLoader} creates it. */
    public FlockLockProvider() {
        this(path -> {});
    }

    /** For tests: a hook run after opening and before each lock attempt. */
    FlockLockProvider(Consumer<Path> beforeLock) {
        super(NAME, FEATURES, NativeFlock.availability(), newMechanism(), beforeLock);
    }

    private static KernelMechanism newMechanism() {
        return NativeFlock.availability().available() ? new FlockMechanism() : Unavailable.INSTANCE;
    }

    /** Open lock files right now (for tests of the bound). */
    int openLockFiles() {
        return openFiles();
    }

    @Override
    public String toString() {
        return "FlockLockProvider[" + NAME + "]";
    }

    /** Stands in where jnr-posix did not load; the base never calls it then. */
    enum Unavailable implements KernelMechanism {
        INSTANCE;

        @Override
        public Set<Mechanism> mechanisms() {
            return Set.of(Mechanism.FLOCK);
        }

        @Override
        public boolean perOpenFile() {
            return true;
        }

        @Override
        public KernelDirectory openDirectory(Path directory) {
            throw new IllegalStateException(
                    "flock is unavailable: " + NativeFlock.availability().reason());
        }
    }
}
