package dev.lockcache.lock.spi;

import java.io.IOException;
import java.util.Optional;

/**
 * An open directory that lock files are opened relative to ({@code openat}, {@code fstatat}), so that a path
 * component swapped for a symbolic link after the directory was judged cannot redirect an open.
 */
public interface KernelDirectory extends AutoCloseable {

    /** {@code fstat} of the directory descriptor. */
    FileIdentity identity() throws IOException;

    /**
     * Opens {@code name} in this directory as {@code mode} says, never following a symbolic link, never blocking
     * on a FIFO, close-on-exec; a created file gets {@code createMode} (the base sets it again on the descriptor).
     *
     * @throws java.nio.file.FileAlreadyExistsException for {@link KernelMechanism.OpenMode#CREATE_NEW} and an
     *     existing name
     * @throws java.nio.file.NoSuchFileException for the other modes and a missing name
     * @throws java.nio.file.AccessDeniedException when this process may not open it so
     * @throws java.nio.file.FileSystemException naming the path for a symbolic link ({@code ELOOP}) and other
     *     failures
     */
    KernelFile open(String name, KernelMechanism.OpenMode mode, int createMode) throws IOException;

    /** {@code fstatat(name, AT_SYMLINK_NOFOLLOW)}: what the name is now, or empty if it does not exist. */
    Optional<FileIdentity> identityOf(String name) throws IOException;

    /** Closes the directory descriptor, never throwing. */
    @Override
    void close();
}
