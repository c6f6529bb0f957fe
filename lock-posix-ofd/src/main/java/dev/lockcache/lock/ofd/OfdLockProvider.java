package dev.lockcache.lock.ofd;

import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.KernelLockProvider;
import dev.lockcache.lock.spi.LockFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code ofd} provider: Linux open-file-description locks ({@code F_OFD_SETLK}, {@code F_OFD_SETLKW}), shared
 * or exclusive. Like flock they belong to an open file description (two descriptors of one process exclude each
 * other, closing another descriptor keeps the lock, a child that inherits the descriptor keeps it alive); like
 * classic fcntl locks they go through the NFS lock manager, so they are coherent across NFS clients, and they
 * conflict with classic fcntl locks ({@code nio}) but not with flock. Everything but the system calls ({@link
 * OfdMechanism}) is {@link KernelLockProvider}'s.
 *
 * <p>Thread-safe; found through {@link java.util.ServiceLoader}.
 */
public final class OfdLockProvider extends KernelLockProvider {

    /** This provider's name. */
    public static final String NAME = "ofd";

    private static final Set<LockFeature> FEATURES = Set.copyOf(EnumSet.of(
            LockFeature.SHARED,
            LockFeature.CROSS_PROCESS,
            LockFeature.CROSS_HOST,
            LockFeature.RELEASED_ON_CRASH,
            LockFeature.BLOCKING_HANDOFF));

    /** The provider as {@link java.util.ServiceLoader} creates it. */
    public OfdLockProvider() {
        this(path -> {});
    }

    /** For tests: a hook run after opening and before each lock attempt. */
    OfdLockProvider(Consumer<Path> beforeLock) {
        super(NAME, FEATURES, OfdLockProvider::checkAvailability, new OfdMechanism(), beforeLock);
    }

    /** Open lock files right now (for tests of the bound). */
    int openLockFiles() {
        return openFiles();
    }

    private static Availability checkAvailability() {
        Optional<String> failure = OfdSyscalls.loadFailure();
        if (failure.isPresent()) {
            return Availability.unavailable(failure.get());
        }
        Path scratch = null;
        try {
            scratch = Files.createTempFile("lockcache-ofd-check", ".lock");
            int fd = OfdSyscalls.openAt(-100, scratch.toString(), OfdSyscalls.O_RDWR, 0, scratch); // AT_FDCWD
            try {
                OfdSyscalls.wouldGrant(fd, OfdSyscalls.F_WRLCK, scratch);
            } finally {
                OfdSyscalls.closeQuietly(fd);
            }
            return Availability.available("Linux " + System.getProperty("os.version") + " on "
                    + System.getProperty("os.arch") + " takes F_OFD_GETLK; libc loaded through JNA");
        } catch (OfdSyscalls.OfdCallException e) {
            return Availability.unavailable(
                    e.errno() == OfdSyscalls.EINVAL
                            ? "this kernel has no open-file-description locks (Linux 3.15 or newer needed): "
                                    + e.getMessage()
                            : e.getMessage());
        } catch (IOException e) {
            return Availability.unavailable("cannot check OFD locks in the temporary directory: " + e);
        } finally {
            if (scratch != null) {
                try {
                    Files.deleteIfExists(scratch);
                } catch (IOException ignored) {
                    // a stray empty temp file is harmless
                }
            }
        }
    }

    @Override
    public String toString() {
        return "OfdLockProvider[" + NAME + "]";
    }
}
