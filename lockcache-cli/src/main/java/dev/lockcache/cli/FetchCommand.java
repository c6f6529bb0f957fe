package dev.lockcache.cli;

import dev.lockcache.cache.DatasetCache;
import dev.lockcache.cache.DatasetSource;
import dev.lockcache.cache.DatasetSpec;
import dev.lockcache.cache.FetchOptions;
import dev.lockcache.cache.FetchPolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code lockcache fetch}: fetches a {@code file:} or {@code http(s):} source into the cache through the
 * pipeline (exactly once across all concurrent callers, verified, published atomically) and prints the path
 * of the cached entry, or of the mirror with {@code --to}.
 *
 * <p>The cache key is derived from the source, so every fetch of the same source shares one entry: the
 * source's file name plus 16 hex digits of the SHA-256 of its URI ({@code --key} overrides it).
 */
@Command(
        name = "fetch",
        sortOptions = false,
        description = {
            "Fetches a dataset into the cache once for all concurrent callers and prints its path.",
            "SOURCE is a file: or http(s): URI or a local path. The bytes are verified before anyone sees them, and"
                    + " the cached path (or the --to path) is printed on stdout."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:The dataset is in the cache (and at --to).",
            "1:The fetch failed: download, digest or size check, I/O, a lock file in the way.",
            "64:Bad usage: an unknown option or provider, a malformed duration or size.",
            "75:The key's lock was not obtained (--timeout passed)."
        })
final class FetchCommand implements Callable<Integer> {

    private static final Pattern SEGMENT_UNSAFE = Pattern.compile("[^A-Za-z0-9._+-]");

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SOURCE", description = "file:, http: or https: URI, or a path to a local file.")
    String source;

    @Option(
            names = "--sha256",
            paramLabel = "HEX",
            description = "Expected SHA-256 (64 hex digits); checked before publishing.")
    Optional<String> sha256;

    @Option(
            names = "--size",
            paramLabel = "SIZE",
            converter = ByteSizeConverter.class,
            description = "Expected size in bytes (4096, 64MiB, 1GiB); checked before publishing.")
    Optional<Long> size;

    @Option(
            names = "--to",
            paramLabel = "PATH",
            description = "Also mirror the entry to PATH (hard link, else copy) and print PATH.")
    Optional<Path> to;

    @Option(
            names = "--policy",
            paramLabel = "POLICY",
            converter = PolicyConverter.class,
            defaultValue = "if-missing",
            description = "if-missing (default): fetch once, ever; always: refresh; never: offline, cache only.")
    FetchPolicy policy;

    @Option(
            names = "--cache",
            paramLabel = "DIR",
            description = "Cache root. Default: LOCKCACHE_HOME, else the platform's cache directory.")
    Optional<Path> cache;

    @Option(
            names = "--provider",
            paramLabel = "NAME",
            description = "Lock provider. Default: the strategy's pick for the cache's filesystem.")
    Optional<String> provider;

    @picocli.CommandLine.Mixin
    ZooKeeperOption zooKeeper = new ZooKeeperOption();

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "How long to wait for another process fetching the same source (default 30m).")
    Optional<Duration> timeout;

    @Option(names = "--key", paramLabel = "KEY", description = "Cache key. Default: derived from SOURCE.")
    Optional<String> key;

    @Override
    public Integer call() {
        provider = zooKeeper.apply(spec, provider, cache);
        DatasetSource dataset = source();
        String fileName = fileName(dataset);
        DatasetSpec dataspec;
        try {
            dataspec = DatasetSpec.of(key.orElseGet(() -> derivedKey(fileName, dataset)), dataset, fileName);
            if (sha256.isPresent()) {
                dataspec = dataspec.withSha256(sha256.get());
            }
            if (size.isPresent()) {
                dataspec = dataspec.withSize(size.get());
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        DatasetCache.Builder builder = DatasetCache.builder().register(dataspec);
        cache.ifPresent(builder::root);
        provider.ifPresent(name -> {
            ProviderSelection.named(spec, name, dev.lockcache.lock.LockProviders.installed());
            builder.provider(name);
        });
        try (DatasetCache datasets = builder.build();
                ProgressDisplay progress = ProgressDisplay.forStderr()) {
            FetchOptions options = datasets.defaultOptions().withPolicy(policy).withProgress(progress);
            if (timeout.isPresent()) {
                options = options.withLockTimeout(timeout.get());
            }
            Path result = to.isPresent()
                    ? datasets.fetch(dataspec.key(), to.get(), options)
                    : datasets.fetch(dataspec.key(), options);
            progress.close();
            spec.commandLine().getOut().println(result);
            spec.commandLine().getOut().flush();
        }
        return ExitCode.OK;
    }

    private DatasetSource source() {
        String text = source.strip();
        try {
            if (text.matches("(?i)(file|https?):.*")) {
                return DatasetSource.url(text);
            }
            if (text.matches("[A-Za-z][A-Za-z0-9+.-]+:.*") && !text.matches("[A-Za-z]:[\\\\/].*")) {
                throw new IllegalArgumentException(
                        "source '" + text + "' has an unsupported scheme; use file:, http: or https:, or a local path");
            }
            return DatasetSource.file(Path.of(text));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private static String fileName(DatasetSource source) {
        String path = source instanceof DatasetSource.Url url ? url.uri().getPath() : null;
        String last = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
        String safe = SEGMENT_UNSAFE.matcher(last).replaceAll("_");
        safe = safe.replaceAll("^[.]+", "");
        return safe.isEmpty() ? "data" : safe.length() > 100 ? safe.substring(safe.length() - 100) : safe;
    }

    private static String derivedKey(String fileName, DatasetSource source) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(source.describe().getBytes(StandardCharsets.UTF_8));
            return fileName + "-" + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** {@code if-missing}, {@code always}, {@code never} (any case, {@code _} or {@code -}). */
    static final class PolicyConverter implements ITypeConverter<FetchPolicy> {
        @Override
        public FetchPolicy convert(String text) {
            try {
                return FetchPolicy.valueOf(text.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + text + "' is not a policy; use if-missing, always or never");
            }
        }
    }
}
