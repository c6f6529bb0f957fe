package dev.lockcache.lock.zookeeper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Names the znode of a lock path, and parses the contenders under it.
 *
 * <p>A lock file's real path is first made relative to the longest configured base that contains it (or kept
 * absolute when no base is configured), then each name of it becomes one znode level under the root: {@code
 * /data/cache/.locks/mnist.lock} with base {@code /data/cache} and root {@code /lockcache} is {@code
 * /lockcache/.locks/mnist.lock}; without a base it is {@code /lockcache/data/cache/.locks/mnist.lock}. A name is
 * kept as it is when it is made of {@code A-Z a-z 0-9 . - + = , @ ~ _} and does not start with {@code _}; every
 * other byte of its UTF-8 form (and a leading {@code _}, and {@code %} itself) is written {@code %XX}, a lone
 * surrogate (which has no UTF-8 form) {@code %UXXXX}. So the mapping is one-to-one, every result is a legal znode
 * name, and no directory name can pass for a contender:
 * contenders are the children named {@code _c_<uuid>-write-<sequence>} or {@code _c_<uuid>-read-<sequence>}
 * (Curator's protected ephemeral-sequential names).
 */
final class ZnodePaths {

    static final String WRITE = "write-";
    static final String READ = "read-";
    private static final String PROTECTED_PREFIX = "_c_";
    private static final int UUID_LENGTH = 36;
    private static final int SEQUENCE_DIGITS = 10;

    private final String root;
    private final List<Path> bases;
    private final ConcurrentHashMap<Path, Path> realBases = new ConcurrentHashMap<>();

    ZnodePaths(String root, List<Path> bases) {
        this.root = checkRoot(root);
        this.bases = List.copyOf(bases);
    }

    /** Validates a root znode path: absolute, no trailing slash, legal names, not ZooKeeper's own. */
    static String checkRoot(String root) {
        if (root == null || !root.startsWith("/") || (root.length() > 1 && root.endsWith("/"))) {
            throw new IllegalArgumentException(
                    ZooKeeperConfig.ROOT_PROPERTY + "=" + root + " must be an absolute znode path such as /lockcache");
        }
        if (root.equals("/zookeeper") || root.startsWith("/zookeeper/")) {
            throw new IllegalArgumentException(
                    ZooKeeperConfig.ROOT_PROPERTY + "=" + root + " is ZooKeeper's own tree; choose another root");
        }
        try {
            org.apache.zookeeper.common.PathUtils.validatePath(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ZooKeeperConfig.ROOT_PROPERTY + "=" + root + ": " + e.getMessage());
        }
        return root;
    }

    /**
     * The znode for the lock file {@code realPath}.
     *
     * @throws IOException if bases are configured and none contains the path
     */
    String lockNode(Path realPath) throws IOException {
        Path relative = relative(realPath);
        StringBuilder node = new StringBuilder(root.length() + 64).append(root.equals("/") ? "" : root);
        for (Path name : relative) {
            node.append('/').append(encode(name.toString()));
        }
        if (relative.getNameCount() == 0 || relative.toString().isEmpty()) {
            throw new IOException("lock path " + realPath + " is a base directory itself; lock a file inside it");
        }
        return node.toString();
    }

    private Path relative(Path realPath) throws IOException {
        Path absolute = realPath.toAbsolutePath().normalize();
        if (bases.isEmpty()) {
            return absolute.getRoot() == null ? absolute : absolute.getRoot().relativize(absolute);
        }
        Path best = null;
        for (Path base : bases) {
            Path real = realBase(base);
            if (absolute.startsWith(real) && (best == null || real.getNameCount() > best.getNameCount())) {
                best = real;
            }
        }
        if (best == null) {
            throw new IOException("lock path " + absolute + " is under none of the shared bases " + bases + " ("
                    + ZooKeeperConfig.BASE_PROPERTY + " / " + ZooKeeperConfig.BASE_ENV
                    + "); lock a path inside one, or add its shared root to the list");
        }
        return best.relativize(absolute);
    }

    /**
     * The base's real path, remembered once it exists; a base that is not there yet (a cache root made on first
     * use) is compared as written and looked up again next time, so that a base under a symbolic link (macOS's
     * {@code /tmp}) is not remembered unresolved.
     */
    private Path realBase(Path base) {
        Path known = realBases.get(base);
        if (known != null) {
            return known;
        }
        Path absolute = base.toAbsolutePath().normalize();
        try {
            Path real = absolute.toRealPath();
            realBases.put(base, real);
            return real;
        } catch (IOException e) {
            return absolute; // not there (yet): compare as written
        }
    }

    /** One path name as a znode name (see the class comment). */
    static String encode(String name) {
        boolean plain = !name.isEmpty() && name.charAt(0) != '_' && !name.equals(".") && !name.equals("..");
        for (int i = 0; plain && i < name.length(); i++) {
            plain = isPlain(name.charAt(i));
        }
        if (plain) {
            return name;
        }
        StringBuilder out = new StringBuilder(name.length() + 16);
        boolean onlyDots = name.equals(".") || name.equals("..");
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            int width = Character.charCount(cp);
            if (cp < 0x80 && isPlain((char) cp) && !(i == 0 && cp == '_') && !(onlyDots && cp == '.')) {
                out.append((char) cp);
            } else if (Character.isSurrogate((char) cp) && width == 1) {
                // a lone surrogate has no UTF-8 form: %U and its four hex digits keep the mapping one-to-one
                out.append("%U").append(String.format("%04X", cp));
            } else {
                for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    out.append('%')
                            .append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
                }
            }
            i += width;
        }
        return out.toString();
    }

    private static boolean isPlain(char c) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || c == '.'
                || c == '-'
                || c == '+'
                || c == '='
                || c == ','
                || c == '@'
                || c == '~'
                || c == '_';
    }

    /** One contender under a lock node. */
    record Contender(String name, boolean write, long sequence) {}

    /** The child name's contender, or empty for anything that is not one of ours. */
    static Optional<Contender> contender(String child) {
        int kind = PROTECTED_PREFIX.length() + UUID_LENGTH + 1;
        if (!child.startsWith(PROTECTED_PREFIX) || child.length() < kind + READ.length() + SEQUENCE_DIGITS) {
            return Optional.empty();
        }
        if (child.charAt(kind - 1) != '-') {
            return Optional.empty();
        }
        boolean write;
        int digits;
        if (child.startsWith(WRITE, kind)) {
            write = true;
            digits = kind + WRITE.length();
        } else if (child.startsWith(READ, kind)) {
            write = false;
            digits = kind + READ.length();
        } else {
            return Optional.empty();
        }
        if (child.length() - digits != SEQUENCE_DIGITS) {
            return Optional.empty();
        }
        long sequence = 0;
        for (int i = digits; i < child.length(); i++) {
            int d = child.charAt(i) - '0';
            if (d < 0 || d > 9) {
                return Optional.empty();
            }
            sequence = sequence * 10 + d;
        }
        return Optional.of(new Contender(child, write, sequence));
    }

    /** The contenders among {@code children}, in queue order. */
    static List<Contender> queue(List<String> children) {
        List<Contender> queue = new ArrayList<>(children.size());
        for (String child : children) {
            contender(child).ifPresent(queue::add);
        }
        queue.sort(Comparator.comparingLong(Contender::sequence));
        return queue;
    }

    /** The last path element of a znode path. */
    static String name(String node) {
        return node.substring(node.lastIndexOf('/') + 1);
    }
}
