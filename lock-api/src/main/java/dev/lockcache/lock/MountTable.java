package dev.lockcache.lock;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The mounts of this process, read from Linux's {@code /proc/self/mountinfo} (or any text in that format, for
 * tests). Mount points and sources have spaces and other bytes escaped as octal ({@code \040}); the per-mount
 * and per-superblock options are merged, because NFS puts {@code nolock} and {@code local_lock=} among the
 * latter. A path belongs to the mount with the longest mount point that contains it; of equal ones, the last
 * mounted wins (it hides the others).
 */
final class MountTable {

    /** The Linux file this table is read from. */
    static final Path PROC_MOUNTINFO = Path.of("/proc/self/mountinfo");

    /**
     * One mount.
     *
     * @param mountPoint where it is mounted
     * @param type the filesystem type, lower case ({@code ext4}, {@code nfs4}, {@code fuse.sshfs}...)
     * @param source what is mounted ({@code /dev/sda1}, {@code server:/export})
     * @param options mount and superblock options, in order, without duplicates
     */
    record Mount(Path mountPoint, String type, String source, List<String> options) {
        Mount {
            options = List.copyOf(options);
        }

        /** Whether option {@code name} (as {@code name} or {@code name=value}) is present. */
        boolean has(String name) {
            return options.stream().anyMatch(o -> o.equals(name) || o.startsWith(name + "="));
        }

        /** The value of option {@code name=value}, if present. */
        Optional<String> value(String name) {
            return options.stream()
                    .filter(o -> o.startsWith(name + "="))
                    .map(o -> o.substring(name.length() + 1))
                    .reduce((first, second) -> second);
        }
    }

    private final List<Mount> mounts;

    private MountTable(List<Mount> mounts) {
        this.mounts = List.copyOf(mounts);
    }

    /** Parses mountinfo text; malformed lines are skipped. */
    static MountTable parse(Reader reader) throws IOException {
        List<Mount> mounts = new ArrayList<>();
        BufferedReader lines = new BufferedReader(reader);
        for (String line; (line = lines.readLine()) != null; ) {
            parseLine(line).ifPresent(mounts::add);
        }
        return new MountTable(mounts);
    }

    static MountTable parse(String text) {
        try {
            return parse(new StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringReader does not fail
        }
    }

    /** This process's mount table, or empty where {@code /proc/self/mountinfo} does not exist or cannot be read. */
    static Optional<MountTable> system() {
        if (!Files.isReadable(PROC_MOUNTINFO)) {
            return Optional.empty();
        }
        try (Reader reader = Files.newBufferedReader(PROC_MOUNTINFO)) {
            return Optional.of(parse(reader));
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
    }

    List<Mount> mounts() {
        return mounts;
    }

    /** The mount that holds {@code path} (absolute, ideally real), if any. */
    Optional<Mount> find(Path path) {
        Mount best = null;
        for (Mount m : mounts) {
            if (path.startsWith(m.mountPoint())
                    && (best == null
                            || m.mountPoint().getNameCount()
                                    >= best.mountPoint().getNameCount())) {
                best = m;
            }
        }
        return Optional.ofNullable(best);
    }

    private static Optional<Mount> parseLine(String line) {
        String[] fields = line.trim().split(" +");
        int dash = -1;
        for (int i = 6; i < fields.length; i++) {
            if (fields[i].equals("-")) {
                dash = i;
                break;
            }
        }
        if (dash < 0 || dash + 2 >= fields.length) {
            return Optional.empty();
        }
        String mountPoint = unescape(fields[4]);
        if (!mountPoint.startsWith("/")) {
            return Optional.empty();
        }
        Set<String> options = new LinkedHashSet<>(List.of(fields[5].split(",")));
        if (dash + 3 < fields.length) {
            options.addAll(List.of(fields[dash + 3].split(",")));
        }
        return Optional.of(new Mount(
                Path.of(mountPoint),
                unescape(fields[dash + 1]).toLowerCase(Locale.ROOT),
                unescape(fields[dash + 2]),
                new ArrayList<>(options)));
    }

    /** Undoes the kernel's octal escapes ({@code \040} space, {@code \011} tab, {@code \012} newline, {@code \134} backslash). */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }
}
