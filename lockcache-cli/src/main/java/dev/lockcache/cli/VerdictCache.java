package dev.lockcache.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The strategy's verdict per mount, remembered between runs of the command, so that a one-shot {@code lockcache
 * run} does not build every provider and probe the filesystem each time. The key is the mount as {@code
 * /proc/self/mountinfo} describes it (device, root, mount point, type, options) plus the jar that judged it: a
 * remount with other options, another filesystem at the same place, or another lockcache build is judged again.
 *
 * <p>The file lives in {@code ${XDG_CACHE_HOME:-~/.cache}/lockcache/} (or {@value #DIR_ENV}), in a directory of
 * this user's own that nobody else can write, and is read only if it is a regular file of ours, not a link, and
 * at most {@value #MAX_BYTES} bytes; anything else is ignored (and the strategy asked). It is replaced
 * atomically. Linux only: elsewhere there is no mount table to key on and nothing is cached.
 */
final class VerdictCache {

    /** Environment variable naming the directory of the cache file (default: the user's cache directory). */
    static final String DIR_ENV = "LOCKCACHE_STATE_DIR";

    private static final String FILE = "strategy-verdicts";
    private static final int MAX_BYTES = 64 * 1024;
    private static final int MAX_ENTRIES = 64;
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private final Path file;
    private final String key;

    private VerdictCache(Path file, String key) {
        this.file = file;
        this.key = key;
    }

    /** The cache slot for the mount of {@code directory}, if there is a safe place and a mount to key on. */
    static Optional<VerdictCache> forDirectory(Path directory) {
        try {
            Optional<Path> dir = ownDirectory();
            Optional<String> mount = mountOf(directory);
            if (dir.isEmpty() || mount.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new VerdictCache(dir.get().resolve(FILE), jarStamp() + " " + mount.get()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The provider name remembered for this mount. */
    Optional<String> lookup() {
        return Optional.ofNullable(read().get(key));
    }

    /** Remembers {@code provider} for this mount; a failure to write is ignored (the cache is an optimisation). */
    void remember(String provider) {
        Map<String, String> entries = read();
        entries.remove(key);
        while (entries.size() >= MAX_ENTRIES) {
            entries.remove(entries.keySet().iterator().next());
        }
        entries.put(key, provider);
        StringBuilder text = new StringBuilder();
        entries.forEach((k, v) -> text.append(v).append('\t').append(k).append('\n'));
        Path temp = file.resolveSibling(FILE + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.write(
                    temp,
                    text.toString().getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE);
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | UnsupportedOperationException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // nothing more to do
            }
        }
    }

    private Map<String, String> read() {
        Map<String, String> entries = new LinkedHashMap<>();
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || !ours(file)) {
                return entries;
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                bytes = in.readNBytes(MAX_BYTES + 1);
            }
            if (bytes.length > MAX_BYTES) {
                return entries;
            }
            for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
                int tab = line.indexOf('\t');
                if (tab > 0) {
                    entries.put(line.substring(tab + 1), line.substring(0, tab));
                }
            }
        } catch (IOException | RuntimeException e) {
            entries.clear();
        }
        return entries;
    }

    private static Optional<Path> ownDirectory() throws IOException {
        String configured = System.getenv(DIR_ENV);
        Path dir;
        if (configured != null && !configured.isBlank()) {
            dir = Path.of(configured);
        } else {
            String xdg = System.getenv("XDG_CACHE_HOME");
            String home = System.getProperty("user.home");
            Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(home, ".cache");
            dir = base.resolve("lockcache");
        }
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectories(dir.getParent());
                Files.createDirectory(
                        dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (java.nio.file.FileAlreadyExistsException | DirectoryNotEmptyException raced) {
                // someone made it meanwhile; judged below
            }
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !ours(dir)) {
            return Optional.empty();
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            return Optional.empty();
        }
        return Optional.of(dir);
    }

    private static boolean ours(Path path) throws IOException {
        Object uid = Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        Object me = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        return uid.equals(me);
    }

    /** Every mountinfo line for the device {@code directory} is on, without the mount ids (they vary). */
    private static Optional<String> mountOf(Path directory) throws IOException {
        if (!Files.isReadable(MOUNTINFO)) {
            return Optional.empty();
        }
        long dev = ((Number) Files.getAttribute(directory, "unix:dev")).longValue();
        long major = ((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL);
        long minor = ((dev >>> 12) & 0xffffff00L) | (dev & 0xffL);
        String wanted = major + ":" + minor;
        StringBuilder key = new StringBuilder();
        List<String> lines = Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8);
        for (String line : lines) {
            String[] fields = line.split(" ");
            if (fields.length > 4 && fields[2].equals(wanted)) {
                key.append(line.substring(line.indexOf(' ', line.indexOf(' ') + 1) + 1)
                                .replace('\t', ' '))
                        .append(" | ");
            }
        }
        return key.length() == 0 ? Optional.empty() : Optional.of(key.toString());
    }

    private static String jarStamp() throws IOException {
        Path jar = Path.of(VerdictCache.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .getPath());
        return jar + "@" + Files.getLastModifiedTime(jar).toMillis();
    }
}
