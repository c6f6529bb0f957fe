package dev.lockcache.lock.nio;

import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.KernelLockProvider;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.ProbeResult;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code nio} provider: whole-file {@link java.nio.channels.FileChannel} locks (position 0, size {@link
 * Long#MAX_VALUE}), shared or exclusive: POSIX {@code fcntl} record locks on Linux and macOS, {@code LockFileEx}
 * on Windows. Released by the kernel when the holder dies; coherent across NFS clients with a working lock
 * manager. Everything but the system calls ({@link FcntlMechanism}) is {@link KernelLockProvider}'s.
 *
 * <p>fcntl locks belong to the process, and closing any descriptor of a file drops all of them: the base never
 * opens a second descriptor of a path while one is open, and closes one only when no lock is held through it.
 * The probe needs a second process ({@link FcntlProbe}).
 */
public final class FileChannelLockProvider extends KernelLockProvider {

    /** The provider's name. */
    public static final String NAME = "nio";

    private static final Set<LockFeature> FEATURES = Set.copyOf(EnumSet.of(
            LockFeature.SHARED,
            LockFeature.CROSS_PROCESS,
            LockFeature.CROSS_HOST,
            LockFeature.RELEASED_ON_CRASH,
            LockFeature.BLOCKING_HANDOFF));

    private final FcntlProbe probes;

    /** The provider as {@link java.util.ServiceLoader} creates it. */
    public FileChannelLockProvider() {
        this(path -> {});
    }

    /** For tests: {@code beforeLock} runs after the file is opened and before it is locked. */
    FileChannelLockProvider(Consumer<Path> beforeLock) {
        super(
                NAME,
                FEATURES,
                Availability.available("java.nio FileChannel locks (pure JDK)"),
                new FcntlMechanism(),
                beforeLock);
        this.probes = new FcntlProbe(mechanism());
    }

    /** Proves from a child process that fcntl locks exclude on {@code directory}; verdicts cached per file store. */
    @Override
    public ProbeResult probe(Path directory) {
        if (directory == null) {
            throw new IllegalArgumentException("directory must not be null");
        }
        return probes.probe(directory);
    }

    /** Open lock files right now (for tests of the bound). */
    int openLockFiles() {
        return openFiles();
    }

    @Override
    public String toString() {
        return "FileChannelLockProvider[" + NAME + "]";
    }
}
