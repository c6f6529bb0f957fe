package dev.lockcache.lock.spi;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The system calls of one kernel lock mechanism ({@code flock}, classic {@code fcntl}, OFD), all that a provider
 * built on {@link KernelLockProvider} supplies. Everything else (descriptor cache, the check that the path still
 * names the locked file, owner records, fencing, foreign files, waiting, reading the owner) lives once in the
 * base.
 *
 * <p>Implementations are thread-safe. Every open must refuse to follow a symbolic link at the last component
 * ({@code O_NOFOLLOW}) and must not block on a FIFO ({@code O_NONBLOCK}, or a type check before a read-only
 * open), and must not be inherited by child processes ({@code O_CLOEXEC}); the base checks the type, links and
 * owner of what was opened.
 */
public interface KernelMechanism {

    /** Which mechanisms of {@link Mechanism}'s table a lock through this holds (two for a composite). */
    java.util.Set<Mechanism> mechanisms();

    /**
     * Opens {@code directory} (following the path as it is now, once) for work relative to it. The base judges it
     * through {@link KernelDirectory#identity()} and keeps it open.
     */
    KernelDirectory openDirectory(Path directory) throws IOException;

    /**
     * Whether a lock taken through one open file of a file excludes a lock taken through another open file of the
     * same file in the same process ({@code flock}, OFD: yes; classic {@code fcntl}: no, its locks belong to the
     * process). The base's probe uses two descriptors when this is true; otherwise the provider overrides {@link
     * KernelLockProvider#probe}.
     */
    boolean perOpenFile();

    /**
     * Whether an exclusive lock needs the file open for writing (classic {@code fcntl}, OFD: yes, {@code F_WRLCK}
     * on a read-only descriptor fails; {@code flock}: no). When it does not, the base opens a file that is not one
     * of its own records read-only: a script that runs itself under a lock on itself ({@code flock "$0"}) would
     * otherwise fail to start with {@code ETXTBSY}, since no file open for writing can be executed.
     */
    default boolean exclusiveNeedsWrite() {
        return true;
    }

    /** How to open a lock file relative to its directory. */
    enum OpenMode {
        /** Create it, failing with {@link java.nio.file.FileAlreadyExistsException} if the name exists. */
        CREATE_NEW,
        /** Open an existing file for reading and writing; never create. */
        READ_WRITE,
        /** Open an existing file for reading only; never create. */
        READ_ONLY
    }
}
