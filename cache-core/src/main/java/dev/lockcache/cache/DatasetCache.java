package dev.lockcache.cache;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockException;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.LockStrategy;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.ProviderChoice;
import dev.lockcache.lock.StrategyVerdict;
import dev.lockcache.lock.Ticker;
import dev.lockcache.lock.UnsafePathException;
import dev.lockcache.lock.spi.LockProvider;
import java.io.IOException;
import java.net.ProxySelector;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dataset cache shared by every thread and process that uses the same root: each key is fetched exactly
 * once however many callers ask at the same time, no caller ever sees a partial or unverified file, and a
 * failed refresh keeps the previous entry.
 *
 * <pre>{@code
 * DatasetCache cache = DatasetCache.builder()
 *         .register(DatasetSpec.of("mnist", DatasetSource.url("https://example.org/mnist.npz"), "mnist.npz")
 *                 .withSha256(expectedSha256))
 *         .build();
 * Path data = cache.fetch("mnist", Path.of("work/mnist.npz"));
 * }</pre>
 *
 * <p>A fetch takes the key's lock (a provider chosen for the cache root's filesystem by the {@link
 * LockStrategy}), then inside it applies the {@link FetchPolicy}, fetches into a temporary file beside the
 * entry, verifies size and SHA-256, syncs, renames it into place read-only, records metadata, and mirrors the
 * entry into the requested path (hard link, else copy; through a temporary file and an atomic rename). The
 * first use creates and checks the cache root. Thread-safe; one instance per root is enough. {@link #close()}
 * it when done: it closes the HTTP client that downloads built (pooled connections and a timer thread).
 */
public final class DatasetCache implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DatasetCache.class);

    private final Path configuredRoot;
    private final DatasetRegistry registry;
    private final LockStrategy strategy;
    private final FetchPolicy defaultPolicy;
    private final FetchPipeline pipeline;
    private volatile Ready ready;
    private volatile Locks locks;
    private volatile boolean closed;

    /**
     * What the first use sets up: the real root and its layout, and whether this process can write it.
     *
     * @param readOnly why this process cannot write the root, when it cannot
     */
    private record Ready(EntryLayout layout, Optional<IOException> readOnly) {}

    /** The locks the strategy chose for the root's lock directory. */
    private record Locks(FileLocks locks, StrategyVerdict verdict) {}

    private DatasetCache(Builder b, Path root, LockStrategy strategy) {
        this.configuredRoot = root;
        this.registry = b.registry;
        this.strategy = strategy;
        this.defaultPolicy = b.defaultPolicy;
        this.pipeline = new FetchPipeline(new SourceFetcher(
                b.httpTimeouts,
                Ticker.system(),
                b.httpAuthorization != null ? b.httpAuthorization : HttpAuthorization.fromEnvironment(),
                b.proxies != null ? b.proxies : ProxySelector.getDefault(),
                b.sslContext));
    }

    /** A builder with the defaults: root from {@link CacheDirectories#defaultRoot()}, providers from ServiceLoader. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Fetches {@code key} with the default options and mirrors it into {@code requestedPath}.
     *
     * @return {@code requestedPath}, holding the entry's verified bytes
     * @throws CacheException (and subtypes) naming the key, the path or the source and what to do
     */
    public Path fetch(String key, Path requestedPath) {
        return fetch(key, requestedPath, defaultOptions());
    }

    /** Fetches {@code key} under {@code policy} and mirrors it into {@code requestedPath}. */
    public Path fetch(String key, Path requestedPath, FetchPolicy policy) {
        return fetch(key, requestedPath, defaultOptions().withPolicy(policy));
    }

    /** Fetches {@code key} as {@code options} say and mirrors it into {@code requestedPath}. */
    public Path fetch(String key, Path requestedPath, FetchOptions options) {
        if (requestedPath == null) {
            throw new IllegalArgumentException("requested path must not be null; use fetch(key) for the entry itself");
        }
        return fetch(key, Optional.of(requestedPath), options);
    }

    /** Fetches {@code key} with the default options and returns the read-only entry itself. */
    public Path fetch(String key) {
        return fetch(key, Optional.empty(), defaultOptions());
    }

    /** Fetches {@code key} as {@code options} say and returns the read-only entry itself. */
    public Path fetch(String key, FetchOptions options) {
        return fetch(key, Optional.empty(), options);
    }

    /** The options {@link #fetch(String, Path)} uses: the cache's default policy, read-only mirror. */
    public FetchOptions defaultOptions() {
        return FetchOptions.of(defaultPolicy);
    }

    /** Adds or replaces a dataset spec. */
    public DatasetCache register(DatasetSpec spec) {
        registry.register(spec);
        return this;
    }

    /** The specs this cache knows. */
    public DatasetRegistry registry() {
        return registry;
    }

    /** The cache root as configured (created on first use). */
    public Path root() {
        return configuredRoot;
    }

    /** The entry file of a registered key (which may not exist yet). */
    public Path entryPath(String key) {
        return new EntryLayout(configuredRoot).entryFile(registry.require(key));
    }

    /**
     * What the cache recorded about {@code key}'s published entry, read without the lock; empty if none. This is
     * the record, not a verification: {@link #fetch} checks the entry's bytes against it.
     */
    public Optional<EntryInfo> entry(String key) {
        DatasetSpec spec = registry.require(key);
        return FetchPipeline.recorded(ready().layout(), spec);
    }

    /** Which lock provider guards this cache and why (creates the root on first use). */
    public StrategyVerdict lockVerdict() {
        return locks().verdict();
    }

    /**
     * Removes partial downloads (kept by fetches that stopped short, for resuming) whose last write is older than
     * {@code age}, of every key whose lock is free right now; a key being fetched is skipped, so nothing a live
     * fetch writes is ever removed. The {@code gc} command of the CLI calls this.
     *
     * @return the partial files removed
     * @throws IllegalArgumentException when {@code age} is null or negative
     */
    public List<Path> removePartialDownloads(Duration age) {
        if (age == null || age.isNegative()) {
            throw new IllegalArgumentException("age must be zero or positive, was " + age);
        }
        Ready r = ready();
        if (r.readOnly().isPresent()) {
            return List.of();
        }
        List<Path> removed = new ArrayList<>();
        Instant before = Instant.now().minus(age);
        for (Map.Entry<String, List<String>> key :
                FetchPipeline.partialDownloads(r.layout()).entrySet()) {
            Path lockFile = r.layout().lockFile(key.getKey());
            try (LockHandle lock = locks().locks()
                    .acquire(lockFile, LockOptions.exclusive(Duration.ZERO).withOperation("gc " + key.getKey()))) {
                removed.addAll(FetchPipeline.removePartialDownloads(r.layout(), key.getKey(), key.getValue(), before));
            } catch (LockTimeoutException e) {
                LOG.debug("dataset '{}' is being fetched; its partial download stays", key.getKey());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (LockException e) {
                LOG.warn("cannot lock dataset '{}' to remove its partial download: {}", key.getKey(), e.getMessage());
            }
        }
        return removed;
    }

    private Path fetch(String key, Optional<Path> requested, FetchOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("fetch options must not be null; use defaultOptions()");
        }
        if (closed) {
            throw new IllegalStateException("this DatasetCache (root " + configuredRoot
                    + ") was closed; build a new one to fetch '" + key + "'");
        }
        Object event = CacheEvents.fetchBegun();
        try {
            return fetchRecorded(key, requested, options, event);
        } catch (RuntimeException e) {
            CacheEvents.fetchEnded(
                    event,
                    key,
                    options.policy(),
                    null,
                    "failed: " + e.getClass().getSimpleName());
            throw e;
        }
    }

    private Path fetchRecorded(String key, Optional<Path> requested, FetchOptions options, Object event) {
        DatasetSpec spec = registry.require(key);
        Optional<Path> target = requested.map(p -> p.toAbsolutePath().normalize());
        Optional<Path> known = pipeline.knownHit(spec, target, options);
        if (known.isPresent()) {
            // two stats: the entry still has the identity verified before, the mirror is a link to it
            CacheEvents.fetchEnded(event, key, options.policy(), known.get(), "hit");
            return known.get();
        }
        target.ifPresent(p -> FetchPipeline.checkRequested(key, p));
        Ready r = ready();
        boolean readOnly = r.readOnly().isPresent();
        Optional<Path> warm = pipeline.warmHit(r.layout(), spec, target, options, readOnly);
        if (warm.isPresent()) {
            CacheEvents.fetchEnded(event, key, options.policy(), warm.get(), "hit");
            return warm.get();
        }
        Path entry = r.layout().entryFile(spec);
        if (readOnly) {
            IOException why = r.readOnly().get();
            throw new CacheIOException(
                    "fetch dataset '" + key + "'",
                    r.layout().root(),
                    "this process cannot write the cache root (" + CacheIOException.describe(why) + "); from a"
                            + " read-only cache only verified entries are served (a warm hit, a mirror, policy NEVER),"
                            + " and this fetch needs to write: ask the cache's owner to fetch it, or choose a writable"
                            + " cache root (LOCKCACHE_HOME or DatasetCache.builder().root(...))",
                    why);
        }
        // ALWAYS shares only a refresh that starts after this point: note the attempt counter before waiting
        long noted = options.policy() == FetchPolicy.ALWAYS ? FetchPipeline.attempts(r.layout(), spec) : 0;
        Locks l = locks();
        Path lockFile = r.layout().lockFile(key);
        LockOptions lockOptions = LockOptions.exclusive(options.lockTimeout()).withOperation("fetch " + key);
        if (options.waitListener().isPresent()) {
            lockOptions = lockOptions.withWaitListener(options.waitListener().get());
        }
        try (LockHandle lock = awaitTurn(l.locks(), lockFile, lockOptions, options.policy())) {
            if (lock == null) {
                // another caller fetched it while this one waited: look again without the lock, as all can at once
                Optional<Path> shared = pipeline.warmHit(r.layout(), spec, target, options, false);
                if (shared.isPresent()) {
                    CacheEvents.fetchEnded(event, key, options.policy(), shared.get(), "hit");
                    return shared.get();
                }
                return fetchAfterWaiting(spec, target, options, noted, r, l, lockFile, lockOptions, event);
            }
            return fetchUnder(lock, spec, target, options, noted, r, event);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CacheFetchException(
                    key, spec.source().describe(), entry, "interrupted while waiting for lock " + lockFile, e);
        } catch (LockTimeoutException e) {
            throw new CacheException(
                    "dataset '" + key + "' is being fetched by another thread or process: " + e.getMessage()
                            + "; or wait longer with FetchOptions.withLockTimeout",
                    key,
                    lockFile,
                    e);
        } catch (UnsafePathException e) {
            throw new CacheUnsafePathException(key, e);
        } catch (LockException e) {
            throw new CacheException("locking dataset '" + key + "' failed: " + e.getMessage(), key, lockFile, e);
        }
    }

    /**
     * The key's lock for a fetch, or {@code null} when another caller held it and this one waited for it to be
     * done: for policies that accept a cached entry, a waiter then only passes through the lock (taking and
     * releasing it at once) and looks at the entry without it, so that callers who queued behind one download
     * check and mirror its result in parallel instead of one after another under the lock.
     */
    private static LockHandle awaitTurn(FileLocks locks, Path lockFile, LockOptions lockOptions, FetchPolicy policy)
            throws InterruptedException {
        if (policy == FetchPolicy.ALWAYS || lockOptions.timeout().isZero()) {
            return locks.acquire(lockFile, lockOptions);
        }
        try {
            return locks.acquire(lockFile, lockOptions.withTimeout(Duration.ZERO));
        } catch (LockTimeoutException busy) {
            locks.acquire(lockFile, lockOptions).close(); // the other caller is done (or gave up)
            return null;
        }
    }

    /**
     * Fetches {@code spec} under its lock, waiting for it as {@code lockOptions} say (again: a caller that passed
     * through the lock and still found nothing waits at most twice its lock timeout in all).
     */
    private Path fetchAfterWaiting(
            DatasetSpec spec,
            Optional<Path> target,
            FetchOptions options,
            long noted,
            Ready r,
            Locks l,
            Path lockFile,
            LockOptions lockOptions,
            Object event)
            throws InterruptedException {
        try (LockHandle lock = l.locks().acquire(lockFile, lockOptions)) {
            return fetchUnder(lock, spec, target, options, noted, r, event);
        }
    }

    /** The fetch pipeline's locked path under {@code lock}. */
    private Path fetchUnder(
            LockHandle lock,
            DatasetSpec spec,
            Optional<Path> target,
            FetchOptions options,
            long noted,
            Ready r,
            Object event) {
        String key = spec.key();
        lock.onLost((handle, reason) -> LOG.warn(
                "lost the lock {} of dataset '{}' while fetching it ({}); its publish is abandoned",
                handle.path(),
                key,
                reason));
        FetchPipeline.LockHold hold =
                new FetchPipeline.LockHold(lock.provider(), lock.fencingToken(), Holders.next(), lock::lost);
        Path result = pipeline.fetchLocked(r.layout(), spec, target, options, noted, hold);
        CacheEvents.fetchEnded(event, key, options.policy(), result, "locked");
        return result;
    }

    /**
     * Closes the HTTP client that downloads built, if any; later fetches fail with {@link IllegalStateException}.
     * Idempotent. Lock providers are not closed: they belong to the JVM (or to whoever built and bound them).
     */
    @Override
    public void close() {
        closed = true;
        pipeline.close();
    }

    private Ready ready() {
        Ready r = ready;
        if (r != null) {
            return r;
        }
        synchronized (this) {
            if (ready == null) {
                CacheDirectories.Prepared root = CacheDirectories.prepare(configuredRoot);
                ready = new Ready(new EntryLayout(root.real()), root.readOnly());
            }
            return ready;
        }
    }

    private Locks locks() {
        Locks l = locks;
        if (l != null) {
            return l;
        }
        Ready r = ready();
        synchronized (this) {
            if (locks == null) {
                Path root = r.layout().root();
                Path dir = r.layout().locksDirectory();
                try (TrustedDirectory top = TransientIo.retry(
                                "open cache root",
                                root,
                                () -> TrustedDirectory.root(root, !r.readOnly().isPresent()));
                        TrustedDirectory lockDir = TransientIo.retry(
                                "create lock directory",
                                dir,
                                () -> top.child(
                                        EntryLayout.LOCKS,
                                        "lock directory",
                                        !r.readOnly().isPresent()))) {
                    // judged and made with our mode; the providers judge it again and lock files in it
                }
                StrategyVerdict verdict;
                try {
                    verdict = strategy.choose(dir);
                } catch (UnsafePathException e) {
                    throw new CacheUnsafePathException("", e);
                } catch (LockException e) {
                    throw new CacheException("cannot lock the cache at " + root + ": " + e.getMessage(), "", dir, e);
                }
                locks = new Locks(FileLocks.using(verdict.provider()), verdict);
            }
            return locks;
        }
    }

    /** One identity per lock acquisition, for the entry's fence record: random, plus pid and host for people. */
    private static final class Holders {
        private static final String PROCESS = ProcessHandle.current().pid() + "@" + host();

        static String next() {
            return java.util.UUID.randomUUID() + "/" + PROCESS;
        }

        private static String host() {
            String name = System.getenv("HOSTNAME");
            if (name == null || name.isBlank()) {
                try {
                    name = java.net.InetAddress.getLocalHost().getHostName();
                } catch (java.io.IOException e) {
                    name = "unknown-host";
                }
            }
            return name.replaceAll("[^A-Za-z0-9._-]", "_");
        }
    }

    /**
     * Builds a {@link DatasetCache} without Guice; the same objects {@link CacheModule} binds. Not thread-safe.
     */
    public static final class Builder {
        private Path root;
        private DatasetRegistry registry = new DatasetRegistry();
        private Map<String, LockProvider> providers;
        private ProviderChoice choice;
        private LockStrategy strategy;
        private FetchPolicy defaultPolicy = FetchPolicy.IF_MISSING;
        private HttpTimeouts httpTimeouts = HttpTimeouts.DEFAULT;
        private HttpAuthorization httpAuthorization;
        private ProxySelector proxies;
        private SSLContext sslContext;

        private Builder() {}

        /** The cache root; default {@link CacheDirectories#defaultRoot()}. */
        public Builder root(Path dir) {
            this.root = require(dir, "root");
            return this;
        }

        /** The registry of specs; default a new empty one. */
        public Builder registry(DatasetRegistry specs) {
            this.registry = require(specs, "registry");
            return this;
        }

        /** Registers a spec in this builder's registry. */
        public Builder register(DatasetSpec spec) {
            registry.register(spec);
            return this;
        }

        /** The lock providers by name; default {@link LockProviders#installed()}. */
        public Builder providers(Map<String, LockProvider> byName) {
            this.providers = Map.copyOf(require(byName, "providers"));
            return this;
        }

        /** Use provider {@code name} (still refused where the evidence says it does not exclude). */
        public Builder provider(String name) {
            return providerChoice(ProviderChoice.named(name));
        }

        /** The provider choice; default {@link ProviderChoice#fromEnvironment()}. */
        public Builder providerChoice(ProviderChoice providerChoice) {
            this.choice = require(providerChoice, "provider choice");
            return this;
        }

        /** A strategy of your own; replaces the providers and choice above. */
        public Builder strategy(LockStrategy lockStrategy) {
            this.strategy = require(lockStrategy, "strategy");
            return this;
        }

        /** The policy of {@link DatasetCache#fetch(String, Path)}; default {@link FetchPolicy#IF_MISSING}. */
        public Builder defaultPolicy(FetchPolicy policy) {
            this.defaultPolicy = require(policy, "default policy");
            return this;
        }

        /** HTTP timeouts; default {@link HttpTimeouts#DEFAULT}. */
        public Builder httpTimeouts(HttpTimeouts timeouts) {
            this.httpTimeouts = require(timeouts, "HTTP timeouts");
            return this;
        }

        /**
         * Sends {@code Authorization: value} to {@code host} (a private mirror) and to no other host; default from
         * {@link HttpAuthorization#fromEnvironment() the system properties or environment}, else none.
         */
        public Builder httpAuthorization(String host, String value) {
            this.httpAuthorization = HttpAuthorization.of(host, value);
            return this;
        }

        /** The proxies for HTTP sources; default {@link ProxySelector#getDefault()} (the JDK's proxy settings). */
        public Builder proxySelector(ProxySelector selector) {
            this.proxies = require(selector, "proxy selector");
            return this;
        }

        /**
         * The TLS context for https sources (for example one that trusts a private mirror's CA); default the JDK's
         * ({@code javax.net.ssl.trustStore} and friends), made on the first https fetch. The host name is always
         * verified against the certificate.
         */
        public Builder sslContext(SSLContext context) {
            this.sslContext = require(context, "SSL context");
            return this;
        }

        public DatasetCache build() {
            Path dir = root != null ? root : CacheDirectories.defaultRoot();
            LockStrategy chosen = strategy != null
                    ? strategy
                    : LockStrategy.byFilesystem(
                            providers != null ? providers : LockProviders.installed(),
                            choice != null ? choice : ProviderChoice.fromEnvironment());
            return new DatasetCache(this, dir.toAbsolutePath().normalize(), chosen);
        }

        private static <T> T require(T value, String what) {
            if (value == null) {
                throw new IllegalArgumentException(what + " must not be null");
            }
            return value;
        }
    }
}
