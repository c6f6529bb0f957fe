package dev.lockcache.lock.exclusive;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Creates hard links, and tells a filesystem without them from a real failure. */
@FunctionalInterface
interface Linking {

    /** The JDK's {@link Files#createLink}. */
    Linking JDK = Files::createLink;

    /**
     * Creates {@code link} as a new name of {@code existing}; fails with {@link
     * java.nio.file.FileAlreadyExistsException} if {@code link} exists, and with {@link
     * UnsupportedOperationException} or a {@link FileSystemException} that {@link #isUnsupported} recognises
     * where the filesystem has no hard links.
     */
    void link(Path link, Path existing) throws IOException;

    /**
     * Whether {@code e} from {@code link(2)} means "no hard links here": {@code EPERM} (FAT, some FUSE and SMB
     * mounts) or {@code EOPNOTSUPP}/{@code ENOTSUP}. The JDK reports both only through the reason text.
     */
    static boolean isUnsupported(FileSystemException e) {
        if (e instanceof java.nio.file.AccessDeniedException
                || e instanceof java.nio.file.FileAlreadyExistsException
                || e instanceof java.nio.file.NoSuchFileException) {
            return false;
        }
        String reason = e.getReason() == null ? "" : e.getReason().toLowerCase(Locale.ROOT);
        return reason.contains("operation not permitted")
                || reason.contains("operation not supported")
                || reason.contains("not supported");
    }
}
