package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.spi.DirectoryTrust;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * How the {@code zookeeper} provider reaches its ensemble and names its nodes. Immutable; built once, from
 * {@link #fromEnvironment()} (system properties, then environment variables, then the optional file named by
 * {@link #CONFIG_FILE_PROPERTY}, then the defaults below) or in code through {@link #defaults()} and the {@code
 * with...} methods (an application that wires providers itself, for example into a Guice {@code MapBinder},
 * builds {@code new ZooKeeperLockProvider(config)}).
 *
 * <p>Durations are given in milliseconds ({@code 15000}) or ISO-8601 ({@code PT15S}). {@link #toString()} never
 * shows the digest secret.
 */
public final class ZooKeeperConfig {

    /** The ensemble, {@code host:port[,host:port...][/chroot]}. Default {@value #DEFAULT_CONNECT}. */
    public static final String CONNECT_PROPERTY = "lockcache.zookeeper.connect";
    /** Environment form of {@link #CONNECT_PROPERTY}. */
    public static final String CONNECT_ENV = "LOCKCACHE_ZOOKEEPER_CONNECT";
    /** Default of {@link #CONNECT_PROPERTY}. */
    public static final String DEFAULT_CONNECT = "127.0.0.1:2181";

    /**
     * The session timeout asked of the ensemble (which clamps it to its own 2..20 ticks): how long a holder that
     * crashed or was cut off keeps its locks. Default 15 s.
     */
    public static final String SESSION_TIMEOUT_PROPERTY = "lockcache.zookeeper.sessionTimeout";
    /** Environment form of {@link #SESSION_TIMEOUT_PROPERTY}. */
    public static final String SESSION_TIMEOUT_ENV = "LOCKCACHE_ZOOKEEPER_SESSION_TIMEOUT";
    /** Default of {@link #SESSION_TIMEOUT_PROPERTY}. */
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(15);

    /** How long the first connection (and each retried operation's connection) may take. Default 5 s. */
    public static final String CONNECTION_TIMEOUT_PROPERTY = "lockcache.zookeeper.connectionTimeout";
    /** Environment form of {@link #CONNECTION_TIMEOUT_PROPERTY}. */
    public static final String CONNECTION_TIMEOUT_ENV = "LOCKCACHE_ZOOKEEPER_CONNECTION_TIMEOUT";
    /** Default of {@link #CONNECTION_TIMEOUT_PROPERTY}. */
    public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(5);

    /**
     * Retry policy for operations that failed on a lost connection: {@code BASE,MAX_SLEEP,MAX_RETRIES} for a
     * bounded exponential backoff (Curator's {@code BoundedExponentialBackoffRetry}), durations as above.
     * Default {@value #DEFAULT_RETRY}.
     */
    public static final String RETRY_PROPERTY = "lockcache.zookeeper.retry";
    /** Environment form of {@link #RETRY_PROPERTY}. */
    public static final String RETRY_ENV = "LOCKCACHE_ZOOKEEPER_RETRY";
    /** Default of {@link #RETRY_PROPERTY}: 100 ms doubling up to 2 s, 3 retries. */
    public static final String DEFAULT_RETRY = "100,2000,3";

    /** The znode under which every lock lives. Default {@value #DEFAULT_ROOT}. */
    public static final String ROOT_PROPERTY = "lockcache.zookeeper.root";
    /** Environment form of {@link #ROOT_PROPERTY}. */
    public static final String ROOT_ENV = "LOCKCACHE_ZOOKEEPER_ROOT";
    /** Default of {@link #ROOT_PROPERTY}. */
    public static final String DEFAULT_ROOT = "/lockcache";

    /**
     * Local directories, separated by {@link File#pathSeparator}, where this host sees the tree that all hosts
     * share (the cache root, the mount point of the share): a lock path under one of them is named by its path
     * relative to it, so hosts that mount one share at different local paths meet on one znode. When set, a
     * lock outside every base is refused. Default: none, and a lock is named by its absolute real path (then
     * every host must see the share at the same path).
     */
    public static final String BASE_PROPERTY = "lockcache.zookeeper.base";
    /** Environment form of {@link #BASE_PROPERTY}. */
    public static final String BASE_ENV = "LOCKCACHE_ZOOKEEPER_BASE";

    /**
     * Digest credentials {@code user:password} added to the session. Default: none. Prefer the environment or
     * the configuration file to a {@code -D} flag, which every local account can read in the process list.
     */
    public static final String DIGEST_PROPERTY = "lockcache.zookeeper.digest";
    /** Environment form of {@link #DIGEST_PROPERTY}. */
    public static final String DIGEST_ENV = "LOCKCACHE_ZOOKEEPER_DIGEST";

    /**
     * The ACL of the nodes the provider creates: {@code open} (world may do anything, ZooKeeper's default) or
     * {@code creator} (only the authenticated identity that created them: digest above, or SASL configured
     * through the JVM's JAAS {@code Client} section). Default: {@code creator} when a digest is set, else {@code
     * open}.
     */
    public static final String ACL_PROPERTY = "lockcache.zookeeper.acl";
    /** Environment form of {@link #ACL_PROPERTY}. */
    public static final String ACL_ENV = "LOCKCACHE_ZOOKEEPER_ACL";

    /**
     * How long the connection may stay {@code SUSPENDED} before held locks are reported lost; must be shorter
     * than the session timeout, and safe only well below a third of it (the client notices a silent server only
     * after two thirds of the session timeout). Default 0: a suspension loses every held lock at once.
     */
    public static final String SUSPENDED_GRACE_PROPERTY = "lockcache.zookeeper.suspendedGrace";
    /** Environment form of {@link #SUSPENDED_GRACE_PROPERTY}. */
    public static final String SUSPENDED_GRACE_ENV = "LOCKCACHE_ZOOKEEPER_SUSPENDED_GRACE";
    /** Default of {@link #SUSPENDED_GRACE_PROPERTY}. */
    public static final Duration DEFAULT_SUSPENDED_GRACE = Duration.ZERO;

    /**
     * A Java properties file with any of the {@code lockcache.zookeeper.*} keys above, read after system
     * properties and the environment (which win); for a secret that should not stand in a process's arguments.
     * It must be a regular file (not a symlink), owned by this account or root, and writable by nobody else.
     * Default: none.
     */
    public static final String CONFIG_FILE_PROPERTY = "lockcache.zookeeper.config";
    /** Environment form of {@link #CONFIG_FILE_PROPERTY}. */
    public static final String CONFIG_FILE_ENV = "LOCKCACHE_ZOOKEEPER_CONFIG";

    /** The largest configuration file read. */
    static final int MAX_CONFIG_BYTES = 64 * 1024;

    /** Who may change the nodes the provider creates. */
    public enum Acl {
        /** Anyone ({@code world:anyone}, all permissions). */
        OPEN,
        /** Only the creating identity ({@code auth}, all permissions). */
        CREATOR
    }

    private final String connectString;
    private final Duration sessionTimeout;
    private final Duration connectionTimeout;
    private final Duration retryBaseSleep;
    private final Duration retryMaxSleep;
    private final int retryMaxRetries;
    private final String root;
    private final List<Path> bases;
    private final Optional<String> digest;
    private final Acl acl;
    private final Duration suspendedGrace;

    /** The fields of one configuration while it is being changed. */
    private static final class Fields {
        String connectString;
        Duration sessionTimeout;
        Duration connectionTimeout;
        Duration retryBaseSleep;
        Duration retryMaxSleep;
        int retryMaxRetries;
        String root;
        List<Path> bases;
        Optional<String> digest;
        Acl acl;
        Duration suspendedGrace;
    }

    private ZooKeeperConfig(Fields f) {
        String connectString = f.connectString;
        Duration sessionTimeout = f.sessionTimeout;
        Duration connectionTimeout = f.connectionTimeout;
        Duration retryBaseSleep = f.retryBaseSleep;
        Duration retryMaxSleep = f.retryMaxSleep;
        int retryMaxRetries = f.retryMaxRetries;
        String root = f.root;
        List<Path> bases = f.bases;
        Optional<String> digest = f.digest;
        Acl acl = f.acl;
        Duration suspendedGrace = f.suspendedGrace;
        if (connectString == null || connectString.isBlank()) {
            throw new IllegalArgumentException(CONNECT_PROPERTY + " must name at least one host:port");
        }
        positive(sessionTimeout, SESSION_TIMEOUT_PROPERTY);
        positive(connectionTimeout, CONNECTION_TIMEOUT_PROPERTY);
        positive(retryBaseSleep, RETRY_PROPERTY + " (base sleep)");
        positive(retryMaxSleep, RETRY_PROPERTY + " (max sleep)");
        if (retryMaxRetries < 0 || retryMaxRetries > 29) {
            throw new IllegalArgumentException(RETRY_PROPERTY + " max retries must be 0..29, was " + retryMaxRetries);
        }
        if (sessionTimeout.toMillis() > Integer.MAX_VALUE || connectionTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("ZooKeeper timeouts must be below 24 days");
        }
        if (suspendedGrace == null || suspendedGrace.isNegative()) {
            throw new IllegalArgumentException(SUSPENDED_GRACE_PROPERTY + " must not be negative");
        }
        if (suspendedGrace.compareTo(sessionTimeout) >= 0) {
            throw new IllegalArgumentException(SUSPENDED_GRACE_PROPERTY + "=" + suspendedGrace
                    + " is not shorter than the session timeout " + sessionTimeout
                    + ": a holder would believe it holds a lock its expired session has dropped; lower it");
        }
        if (digest == null || acl == null || bases == null) {
            throw new IllegalArgumentException("digest, acl and bases must not be null");
        }
        digest.ifPresent(d -> {
            if (d.indexOf(':') <= 0) {
                throw new IllegalArgumentException(DIGEST_PROPERTY + " must be user:password");
            }
        });
        this.connectString = connectString.strip();
        this.sessionTimeout = sessionTimeout;
        this.connectionTimeout = connectionTimeout;
        this.retryBaseSleep = retryBaseSleep;
        this.retryMaxSleep = retryMaxSleep;
        this.retryMaxRetries = retryMaxRetries;
        this.root = ZnodePaths.checkRoot(root);
        this.bases = List.copyOf(bases);
        this.digest = digest;
        this.acl = acl;
        this.suspendedGrace = suspendedGrace;
    }

    /** The defaults, connecting to {@value #DEFAULT_CONNECT}. */
    public static ZooKeeperConfig defaults() {
        Fields f = new Fields();
        f.connectString = DEFAULT_CONNECT;
        f.sessionTimeout = DEFAULT_SESSION_TIMEOUT;
        f.connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
        f.retryBaseSleep = Duration.ofMillis(100);
        f.retryMaxSleep = Duration.ofSeconds(2);
        f.retryMaxRetries = 3;
        f.root = DEFAULT_ROOT;
        f.bases = List.of();
        f.digest = Optional.empty();
        f.acl = Acl.OPEN;
        f.suspendedGrace = DEFAULT_SUSPENDED_GRACE;
        return new ZooKeeperConfig(f);
    }

    /** The defaults with another connect string. */
    public static ZooKeeperConfig connectingTo(String connectString) {
        return defaults().withConnectString(connectString);
    }

    /**
     * The configuration of this JVM: each key from its system property, else its environment variable, else the
     * configuration file, else its default.
     *
     * @throws IllegalArgumentException naming the key for a malformed value or an unsafe configuration file
     */
    public static ZooKeeperConfig fromEnvironment() {
        return read(System::getProperty, System::getenv);
    }

    static ZooKeeperConfig read(Function<String, String> properties, Function<String, String> environment) {
        Function<String, String> firstTwo = key -> {
            String value = properties.apply(key);
            return value == null || value.isBlank() ? environment.apply(envName(key)) : value;
        };
        String file = firstTwo.apply(CONFIG_FILE_PROPERTY);
        Properties fromFile = file == null || file.isBlank() ? new Properties() : readFile(Path.of(file.strip()));
        Function<String, Optional<String>> lookup = key -> {
            String value = firstTwo.apply(key);
            if (value == null || value.isBlank()) {
                value = fromFile.getProperty(key);
            }
            return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
        };
        ZooKeeperConfig config = defaults();
        Optional<String> connect = lookup.apply(CONNECT_PROPERTY);
        if (connect.isPresent()) {
            config = config.withConnectString(connect.get());
        }
        Optional<String> session = lookup.apply(SESSION_TIMEOUT_PROPERTY);
        if (session.isPresent()) {
            config = config.withSessionTimeout(duration(SESSION_TIMEOUT_PROPERTY, session.get()));
        }
        Optional<String> connection = lookup.apply(CONNECTION_TIMEOUT_PROPERTY);
        if (connection.isPresent()) {
            config = config.withConnectionTimeout(duration(CONNECTION_TIMEOUT_PROPERTY, connection.get()));
        }
        Optional<String> retry = lookup.apply(RETRY_PROPERTY);
        if (retry.isPresent()) {
            String[] parts = retry.get().split(",");
            if (parts.length != 3) {
                throw new IllegalArgumentException(RETRY_PROPERTY + "=" + retry.get()
                        + " must be BASE,MAX_SLEEP,MAX_RETRIES, such as " + DEFAULT_RETRY);
            }
            int retries;
            try {
                retries = Integer.parseInt(parts[2].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(RETRY_PROPERTY + "=" + retry.get() + ": max retries '"
                        + parts[2].strip() + "' is not a number");
            }
            config = config.withRetry(
                    duration(RETRY_PROPERTY, parts[0].strip()), duration(RETRY_PROPERTY, parts[1].strip()), retries);
        }
        Optional<String> root = lookup.apply(ROOT_PROPERTY);
        if (root.isPresent()) {
            config = config.withRoot(root.get());
        }
        Optional<String> base = lookup.apply(BASE_PROPERTY);
        if (base.isPresent()) {
            List<Path> bases = new ArrayList<>();
            for (String part : base.get().split(File.pathSeparator)) {
                if (!part.isBlank()) {
                    bases.add(Path.of(part.strip()));
                }
            }
            config = config.withBases(bases);
        }
        Optional<String> digest = lookup.apply(DIGEST_PROPERTY);
        if (digest.isPresent()) {
            config = config.withDigest(digest.get());
        }
        Optional<String> acl = lookup.apply(ACL_PROPERTY);
        if (acl.isPresent()) {
            config = config.withAcl(acl(acl.get()));
        }
        Optional<String> grace = lookup.apply(SUSPENDED_GRACE_PROPERTY);
        if (grace.isPresent()) {
            config = config.withSuspendedGrace(duration(SUSPENDED_GRACE_PROPERTY, grace.get()));
        }
        return config;
    }

    /** The environment variable that stands for {@code property}. */
    static String envName(String property) {
        return switch (property) {
            case CONNECT_PROPERTY -> CONNECT_ENV;
            case SESSION_TIMEOUT_PROPERTY -> SESSION_TIMEOUT_ENV;
            case CONNECTION_TIMEOUT_PROPERTY -> CONNECTION_TIMEOUT_ENV;
            case RETRY_PROPERTY -> RETRY_ENV;
            case ROOT_PROPERTY -> ROOT_ENV;
            case BASE_PROPERTY -> BASE_ENV;
            case DIGEST_PROPERTY -> DIGEST_ENV;
            case ACL_PROPERTY -> ACL_ENV;
            case SUSPENDED_GRACE_PROPERTY -> SUSPENDED_GRACE_ENV;
            case CONFIG_FILE_PROPERTY -> CONFIG_FILE_ENV;
            default -> throw new IllegalArgumentException("not a zookeeper configuration key: " + property);
        };
    }

    static Duration duration(String key, String text) {
        String value = text.strip();
        try {
            if (!value.isEmpty() && value.chars().allMatch(Character::isDigit)) {
                return Duration.ofMillis(Long.parseLong(value));
            }
            return Duration.parse(value);
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new IllegalArgumentException(
                    key + "=" + text + " is not a duration; give milliseconds (15000) or ISO-8601 (PT15S)");
        }
    }

    private static Acl acl(String text) {
        try {
            return Acl.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ACL_PROPERTY + "=" + text + " must be 'open' or 'creator'");
        }
    }

    /**
     * Reads the configuration file: a regular file reached without following a symlink, owned by us or root,
     * writable by nobody else (whoever can write it can point our locks at their own server), at most {@link
     * #MAX_CONFIG_BYTES}.
     */
    static Properties readFile(Path file) {
        String key = CONFIG_FILE_PROPERTY + "=" + file;
        try {
            // judged before opening: opening a FIFO for reading would block
            PosixFileAttributeView view =
                    Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (view != null) {
                PosixFileAttributes attributes = view.readAttributes();
                if (!attributes.isRegularFile()) {
                    throw new IllegalArgumentException(key + " is not a regular file (a symlink, FIFO or directory)");
                }
                long owner = ((Number) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
                if (owner != 0 && owner != DirectoryTrust.effectiveUid()) {
                    throw new IllegalArgumentException(
                            key + " is owned by uid " + owner + ", not by this account or root; refusing to read it");
                }
                if (attributes.permissions().contains(PosixFilePermission.GROUP_WRITE)
                        || attributes.permissions().contains(PosixFilePermission.OTHERS_WRITE)) {
                    throw new IllegalArgumentException(
                            key + " is writable by other accounts; chmod go-w it (0600 if it holds a digest)");
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + key + " (" + e + "); fix or unset it", e);
        }
        try (SeekableByteChannel channel =
                Files.newByteChannel(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            if (channel.size() > MAX_CONFIG_BYTES) {
                throw new IllegalArgumentException(key + " is larger than " + MAX_CONFIG_BYTES + " bytes");
            }
            byte[] bytes;
            try (InputStream in = Channels.newInputStream(channel)) {
                bytes = in.readNBytes(MAX_CONFIG_BYTES + 1);
            }
            if (bytes.length > MAX_CONFIG_BYTES) {
                throw new IllegalArgumentException(key + " is larger than " + MAX_CONFIG_BYTES + " bytes");
            }
            Properties properties = new Properties();
            properties.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
            return properties;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + key + " (" + e + "); fix or unset it", e);
        }
    }

    private static void positive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, was " + d);
        }
    }

    /** A copy with {@code change} applied, validated again. */
    private ZooKeeperConfig with(Consumer<Fields> change) {
        Fields f = new Fields();
        f.connectString = connectString;
        f.sessionTimeout = sessionTimeout;
        f.connectionTimeout = connectionTimeout;
        f.retryBaseSleep = retryBaseSleep;
        f.retryMaxSleep = retryMaxSleep;
        f.retryMaxRetries = retryMaxRetries;
        f.root = root;
        f.bases = bases;
        f.digest = digest;
        f.acl = acl;
        f.suspendedGrace = suspendedGrace;
        change.accept(f);
        return new ZooKeeperConfig(f);
    }

    public ZooKeeperConfig withConnectString(String value) {
        return with(f -> f.connectString = value);
    }

    public ZooKeeperConfig withSessionTimeout(Duration value) {
        return with(f -> f.sessionTimeout = value);
    }

    public ZooKeeperConfig withConnectionTimeout(Duration value) {
        return with(f -> f.connectionTimeout = value);
    }

    /** A bounded exponential backoff: {@code base} doubling up to {@code maxSleep}, {@code maxRetries} times. */
    public ZooKeeperConfig withRetry(Duration base, Duration maxSleep, int maxRetries) {
        return with(f -> {
            f.retryBaseSleep = base;
            f.retryMaxSleep = maxSleep;
            f.retryMaxRetries = maxRetries;
        });
    }

    public ZooKeeperConfig withRoot(String value) {
        return with(f -> f.root = value);
    }

    /** See {@link #BASE_PROPERTY}. */
    public ZooKeeperConfig withBases(List<Path> value) {
        return with(f -> f.bases = value);
    }

    /** Digest credentials {@code user:password}; the ACL becomes {@link Acl#CREATOR} (change it after). */
    public ZooKeeperConfig withDigest(String userAndPassword) {
        if (userAndPassword == null) {
            throw new IllegalArgumentException(DIGEST_PROPERTY + " must be user:password, not null");
        }
        return with(f -> {
            f.digest = Optional.of(userAndPassword);
            f.acl = Acl.CREATOR;
        });
    }

    public ZooKeeperConfig withAcl(Acl value) {
        return with(f -> f.acl = value);
    }

    public ZooKeeperConfig withSuspendedGrace(Duration value) {
        return with(f -> f.suspendedGrace = value);
    }

    public String connectString() {
        return connectString;
    }

    public Duration sessionTimeout() {
        return sessionTimeout;
    }

    public Duration connectionTimeout() {
        return connectionTimeout;
    }

    public Duration retryBaseSleep() {
        return retryBaseSleep;
    }

    public Duration retryMaxSleep() {
        return retryMaxSleep;
    }

    public int retryMaxRetries() {
        return retryMaxRetries;
    }

    public String root() {
        return root;
    }

    public List<Path> bases() {
        return bases;
    }

    /** Whether digest credentials are set (the secret itself is not exposed). */
    public boolean hasDigest() {
        return digest.isPresent();
    }

    Optional<String> digest() {
        return digest;
    }

    public Acl acl() {
        return acl;
    }

    public Duration suspendedGrace() {
        return suspendedGrace;
    }

    @Override
    public String toString() {
        return "ZooKeeperConfig[connect=" + connectString + ", sessionTimeout=" + sessionTimeout
                + ", connectionTimeout=" + connectionTimeout + ", retry=" + retryBaseSleep + "," + retryMaxSleep + ","
                + retryMaxRetries + ", root=" + root + ", bases=" + bases + ", digest="
                + (digest.isPresent() ? "(set)" : "(none)") + ", acl="
                + acl.name().toLowerCase(Locale.ROOT)
                + ", suspendedGrace=" + suspendedGrace + "]";
    }
}
