package dev.lockcache.cache;

import dev.lockcache.lock.spi.DirectoryTrust;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * Where the cache lives and how its root directory is made ready.
 *
 * <p>The root is, in order: an explicit path; the environment variable {@value #HOME_ENV}; else the platform's
 * per-user cache directory plus {@code lockcache} — {@code $XDG_CACHE_HOME} or {@code ~/.cache} on Linux and
 * other Unixes, {@code ~/Library/Caches} on macOS, {@code %LOCALAPPDATA%} on Windows.
 */
public final class CacheDirectories {

    /** Environment variable naming the cache root (no default). */
    public static final String HOME_ENV = "LOCKCACHE_HOME";

    /** The directory made under the platform's cache directory. */
    public static final String DIRECTORY_NAME = "lockcache";

    static final int ATTEMPTS = 5;

    private CacheDirectories() {}

    /** The default cache root for this user and platform (not created). */
    public static Path defaultRoot() {
        return defaultRoot(System::getenv, System.getProperty("os.name", ""), Path.of(System.getProperty("user.home")));
    }

    static Path defaultRoot(Function<String, String> env, String osName, Path userHome) {
        String explicit = env.apply(HOME_ENV);
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit.strip()).toAbsolutePath().normalize();
        }
        String os = osName.toLowerCase(Locale.ROOT);
        Path base;
        if (os.startsWith("windows")) {
            String local = env.apply("LOCALAPPDATA");
            base = local == null || local.isBlank()
                    ? userHome.resolve("AppData").resolve("Local")
                    : Path.of(local);
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            base = userHome.resolve("Library").resolve("Caches");
        } else {
            String xdg = env.apply("XDG_CACHE_HOME");
            // the XDG spec says a relative value is invalid and must be ignored
            base = xdg == null || xdg.isBlank() || !Path.of(xdg).isAbsolute()
                    ? userHome.resolve(".cache")
                    : Path.of(xdg);
        }
        return base.resolve(DIRECTORY_NAME).toAbsolutePath().normalize();
    }

    /**
     * Creates {@code directory} (and any missing parents) with the owner-only directory mode of {@link
     * DirectoryTrust#directoryMode()} set on each after creation, judges it (owned by this user or root, not
     * writable by others; see {@link DirectoryTrust}), and proves it writable by creating and deleting a uniquely
     * named file, retrying against concurrent creation and slow filesystems.
     *
     * @return the directory's real path
     * @throws CacheUnsafePathException when the directory exists but another account could change it
     * @throws CacheIOException when a file stands where the directory should be, or it cannot be created or
     *     written; the message names the path and what to do
     */
    public static Path ensureWritable(Path directory) {
        Prepared prepared = prepare(directory);
        if (prepared.readOnly().isPresent()) {
            IOException e = prepared.readOnly().get();
            throw new CacheIOException(
                    "create cache directory", prepared.real(), TransientIo.hint(e, prepared.real()), e);
        }
        return prepared.real();
    }

    /**
     * A judged cache root.
     *
     * @param real its real path
     * @param readOnly why this process cannot write it, when it cannot
     */
    record Prepared(Path real, Optional<IOException> readOnly) {}

    /**
     * Like {@link #ensureWritable}, but an existing, trusted root that this process cannot write (a read-only
     * mount, another account's shared cache) is returned with the reason instead of failing.
     */
    static Prepared prepare(Path directory) {
        if (directory == null) {
            throw new IllegalArgumentException("cache directory must not be null");
        }
        Path dir = directory.toAbsolutePath().normalize();
        for (int attempt = 0; ; attempt++) {
            try {
                refuseFile(dir);
                try (TrustedDirectory root = TrustedDirectory.root(dir, true)) {
                    String probe = ".write-test-"
                            + Long.toHexString(ThreadLocalRandom.current().nextLong());
                    try {
                        root.create(probe, DirectoryTrust.fileMode()).close();
                    } catch (IOException e) {
                        if (readOnly(e)) {
                            return new Prepared(dir.toRealPath(), Optional.of(e));
                        }
                        throw e;
                    }
                    root.delete(probe);
                }
                return new Prepared(dir.toRealPath(), Optional.empty());
            } catch (FileAlreadyExistsException | NoSuchFileException e) {
                // a racing creator or remover; a file in the way is reported by refuseFile on the next round
                if (attempt + 1 >= ATTEMPTS) {
                    throw new CacheIOException(
                            "create cache directory",
                            dir,
                            "it kept changing under us; check what else writes there",
                            e);
                }
                TransientIo.pause(attempt, "create cache directory", dir);
            } catch (IOException e) {
                if (!TransientIo.isTransient(e) || attempt + 1 >= ATTEMPTS) {
                    throw new CacheIOException("create cache directory", dir, TransientIo.hint(e, dir), e);
                }
                TransientIo.pause(attempt, "create cache directory", dir);
            }
        }
    }

    /** Whether {@code e} says the directory cannot be written by this process (as opposed to a passing fault). */
    static boolean readOnly(IOException e) {
        String text = (e.getMessage() == null ? "" : e.getMessage()).toLowerCase(Locale.ROOT);
        return e instanceof AccessDeniedException || text.contains("read-only file system");
    }

    private static void refuseFile(Path dir) {
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p)) {
                throw new CacheIOException(
                        "create cache directory",
                        dir,
                        p + " is a file, not a directory; move it away or choose another cache root (" + HOME_ENV
                                + " or DatasetCache.builder().root(...))",
                        new FileAlreadyExistsException(p.toString()));
            }
        }
    }
}
