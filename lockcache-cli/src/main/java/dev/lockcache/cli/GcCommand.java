package dev.lockcache.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockcache.cache.CacheDirectories;
import dev.lockcache.cache.CacheException;
import dev.lockcache.cache.DatasetCache;
import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockException;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.LockFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lockcache gc}: removes orphaned lock files (of keys with no published entry), temporary debris of
 * crashed fetches, and partial downloads kept for resuming that nobody resumed ({@code --partial-age}), safely. A key's files are touched only while holding its lock (taken with one try, so a
 * fetch in progress is never disturbed), and each file only if the path still names the file that was looked at
 * before locking.
 */
@Command(
        name = "gc",
        sortOptions = false,
        description = {
            "Removes orphaned lock files, temporary debris and old partial downloads from the cache.",
            "Each is removed only while holding its key's lock (one try: keys in use are skipped) and only if the"
                    + " path still names the same file."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:The cache was collected (keys in use are skipped, not failures).",
            "1:The cache directory cannot be used.",
            "64:Bad usage: an unknown option or provider, a malformed duration."
        })
final class GcCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(GcCommand.class);
    /** How the cache names a partial download: {@code .FILE.incomplete} in the key's entry directory. */
    private static final String PARTIAL_SUFFIX = ".incomplete";

    @Spec
    CommandSpec spec;

    @Option(
            names = "--cache",
            paramLabel = "DIR",
            description = "Cache root. Default: LOCKCACHE_HOME, else the platform's cache directory.")
    Optional<Path> cache;

    @Option(
            names = "--older-than",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            defaultValue = "1h",
            description = "Only files last modified longer ago than this (default 1h; 0s for all).")
    Duration olderThan;

    @Option(
            names = "--partial-age",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            defaultValue = "24h",
            description = "Partial downloads (kept by interrupted fetches so that the next fetch resumes them) last"
                    + " written longer ago than this are removed (default 24h; 0s for all whose key is not in use).")
    Duration partialAge;

    @Option(names = "--dry-run", description = "Report what would be removed; remove nothing.")
    boolean dryRun;

    @Option(
            names = "--provider",
            paramLabel = "NAME",
            description = "Lock provider. Default: the strategy's pick for the cache's lock directory.")
    Optional<String> provider;

    @Option(names = "--json", description = "Print one JSON object for scripts.")
    boolean json;

    /** A file removed (or, with --dry-run, that would be). */
    record Removed(String path, String kind, long bytes) {}

    /** Something left in place, and why. */
    record Skipped(String path, String reason) {}

    private final List<Removed> removed = new ArrayList<>();
    private final List<Skipped> skipped = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        Path root =
                cache.orElseGet(CacheDirectories::defaultRoot).toAbsolutePath().normalize();
        if (Files.exists(root) && !Files.isDirectory(root)) {
            throw new CommandFailure(ExitCode.FAILURE, root + " is a file, not a cache directory; check --cache");
        }
        CacheLayout layout = new CacheLayout(root);
        Instant cutoff = Instant.now().minus(olderThan);
        if (Files.isDirectory(layout.locks()) || Files.isDirectory(layout.entries())) {
            ProviderSelection.Choice choice = ProviderSelection.forDirectory(spec, provider, layout.locks());
            FileLocks locks = FileLocks.using(choice.provider());
            boolean kernelLocks = choice.provider().features().contains(LockFeature.RELEASED_ON_CRASH);
            for (String key : keys(layout)) {
                collectKey(layout, key, locks, kernelLocks, cutoff);
            }
        }
        if (Files.isDirectory(layout.entries())) {
            collectPartials(root, layout);
        }
        collectWriteTests(root, cutoff);
        report(root);
        return ExitCode.OK;
    }

    private void collectKey(CacheLayout layout, String key, FileLocks locks, boolean kernelLocks, Instant cutoff)
            throws IOException {
        Path lockFile = layout.lockFile(key);
        List<Path> temps = oldTemps(layout, key, cutoff);
        Optional<BasicFileAttributes> lockBefore = attributes(lockFile);
        boolean orphan = !hasEntry(layout.entryDirectory(key));
        boolean oldLock = lockBefore.isPresent()
                && lockBefore.get().lastModifiedTime().toInstant().isBefore(cutoff);
        if (temps.isEmpty() && !(orphan && oldLock)) {
            return;
        }
        Optional<LockHandle> held;
        try {
            held = locks.tryAcquire(lockFile, LockMode.EXCLUSIVE);
        } catch (LockException e) {
            skipped.add(new Skipped(lockFile.toString(), "cannot lock: " + Main.oneLine(e.getMessage())));
            return;
        }
        if (held.isEmpty()) {
            skipped.add(new Skipped(lockFile.toString(), "in use: its lock is held"));
            return;
        }
        try (LockHandle handle = held.get()) {
            for (Path temp : temps) {
                removeIfUnchanged(temp, attributes(temp), "temp");
            }
            // under the lock nobody publishes: the entry check is now final
            if (orphan && !hasEntry(layout.entryDirectory(key)) && oldLock) {
                removeIfUnchanged(layout.generationFile(key), attributes(layout.generationFile(key)), "generation");
                if (kernelLocks) {
                    if (Objects.equals(fileKey(lockBefore), fileKey(attributes(lockFile)))) {
                        removeNow(lockFile, lockBefore.get().size(), "lock");
                    } else {
                        skipped.add(new Skipped(lockFile.toString(), "replaced while collecting; left in place"));
                    }
                }
                LOG.debug("collected orphaned lock {} with {}", lockFile, handle.provider());
            }
        } catch (LockException e) {
            skipped.add(new Skipped(lockFile.toString(), "release: " + Main.oneLine(e.getMessage())));
        }
    }

    /**
     * Partial downloads go through the cache itself ({@link DatasetCache#removePartialDownloads}), which removes
     * each under its key's lock (one try) with the file's description; this lists them first, for the sizes and
     * to name those left because their key is in use.
     */
    private void collectPartials(Path root, CacheLayout layout) throws IOException {
        Instant before = Instant.now().minus(partialAge);
        Map<Path, Long> old = new LinkedHashMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(layout.entries())) {
            for (Path keyDir : dirs) {
                if (!Files.isDirectory(keyDir, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(keyDir, ".*" + PARTIAL_SUFFIX)) {
                    for (Path file : files) {
                        Optional<BasicFileAttributes> a = attributes(file);
                        if (a.isPresent()
                                && a.get().isRegularFile()
                                && a.get().lastModifiedTime().toInstant().isBefore(before)) {
                            old.put(file, a.get().size());
                        }
                    }
                }
            }
        }
        if (old.isEmpty()) {
            return;
        }
        if (dryRun) {
            old.forEach((file, bytes) -> removed.add(new Removed(file.toString(), "partial", bytes)));
            return;
        }
        DatasetCache.Builder builder = DatasetCache.builder().root(root);
        provider.ifPresent(builder::provider);
        List<Path> gone;
        try {
            gone = builder.build().removePartialDownloads(partialAge);
        } catch (CacheException e) {
            skipped.add(new Skipped(layout.entries().toString(), "partial downloads: " + Main.oneLine(e.getMessage())));
            return;
        }
        for (Path file : gone) {
            // the cache names it under the root's real path; the listing under the root as given
            Path listed = layout.entryDirectory(file.getParent().getFileName().toString())
                    .resolve(file.getFileName().toString());
            Long bytes = old.remove(listed);
            removed.add(new Removed(listed.toString(), "partial", bytes == null ? 0 : bytes));
        }
        old.keySet().forEach(file -> skipped.add(new Skipped(file.toString(), "in use: its key's lock is held")));
    }

    private void removeIfUnchanged(Path file, Optional<BasicFileAttributes> seen, String kind) throws IOException {
        if (seen.isEmpty()) {
            return;
        }
        Optional<BasicFileAttributes> now = attributes(file);
        if (!Objects.equals(fileKey(seen), fileKey(now))) {
            skipped.add(new Skipped(file.toString(), "replaced while collecting; left in place"));
            return;
        }
        removeNow(file, seen.get().size(), kind);
    }

    private void removeNow(Path file, long bytes, String kind) throws IOException {
        if (!dryRun) {
            try {
                Files.delete(file);
            } catch (NoSuchFileException gone) {
                return;
            }
        }
        removed.add(new Removed(file.toString(), kind, bytes));
    }

    private List<Path> oldTemps(CacheLayout layout, String key, Instant cutoff) throws IOException {
        List<Path> found = new ArrayList<>();
        addOld(
                found,
                layout.entryDirectory(key),
                name -> CacheLayout.ENTRY_TEMP.matcher(name).matches(),
                cutoff);
        addOld(found, layout.locks(), name -> CacheLayout.isLockTemp(name, key), cutoff);
        return found;
    }

    private static void addOld(List<Path> found, Path dir, java.util.function.Predicate<String> name, Instant cutoff)
            throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                Optional<BasicFileAttributes> a = attributes(file);
                if (name.test(file.getFileName().toString())
                        && a.isPresent()
                        && a.get().isRegularFile()
                        && a.get().lastModifiedTime().toInstant().isBefore(cutoff)) {
                    found.add(file);
                }
            }
        }
    }

    private void collectWriteTests(Path root, Instant cutoff) throws IOException {
        List<Path> probes = new ArrayList<>();
        addOld(probes, root, name -> CacheLayout.WRITE_TEST.matcher(name).matches(), cutoff);
        for (Path probe : probes) {
            removeIfUnchanged(probe, attributes(probe), "write-test");
        }
    }

    private static TreeSet<String> keys(CacheLayout layout) throws IOException {
        TreeSet<String> keys = new TreeSet<>();
        if (Files.isDirectory(layout.locks())) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(layout.locks())) {
                for (Path file : files) {
                    CacheLayout.keyOfLockFile(file.getFileName().toString()).ifPresent(keys::add);
                }
            }
        }
        if (Files.isDirectory(layout.entries())) {
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(layout.entries(), Files::isDirectory)) {
                for (Path dir : dirs) {
                    keys.add(dir.getFileName().toString());
                }
            }
        }
        return keys;
    }

    /** Whether the entry directory holds a published entry (a file that is neither metadata nor a temp). */
    private static boolean hasEntry(Path entryDirectory) throws IOException {
        if (!Files.isDirectory(entryDirectory)) {
            return false;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(entryDirectory)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (!name.equals(CacheLayout.METADATA_FILE)
                        && !CacheLayout.ENTRY_TEMP.matcher(name).matches()) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Optional<BasicFileAttributes> attributes(Path file) throws IOException {
        try {
            return Optional.of(Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static Object fileKey(Optional<BasicFileAttributes> attributes) {
        return attributes
                .map(a -> a.fileKey() == null ? a.creationTime() : a.fileKey())
                .orElse(null);
    }

    private void report(Path root) {
        PrintWriter out = spec.commandLine().getOut();
        long bytes = removed.stream().mapToLong(Removed::bytes).sum();
        if (json) {
            ObjectNode node = Json.object();
            node.put("cache", root.toString());
            node.put("dryRun", dryRun);
            node.put("olderThan", DurationConverter.format(olderThan));
            node.put("partialAge", DurationConverter.format(partialAge));
            ArrayNode gone = node.putArray("removed");
            removed.forEach(r -> gone.add(Json.tree(r)));
            ArrayNode kept = node.putArray("skipped");
            skipped.forEach(s -> kept.add(Json.tree(s)));
            node.put("bytesFreed", dryRun ? 0 : bytes);
            Json.print(out, node);
            return;
        }
        String verb = dryRun ? "would remove" : "removed";
        for (Removed r : removed) {
            out.printf("%s %-10s %s%n", verb, r.kind(), r.path());
        }
        for (Skipped s : skipped) {
            out.printf("skipped %s: %s%n", s.path(), s.reason());
        }
        out.printf(
                "%s %d file(s), %s, in %s (older than %s)%n",
                verb, removed.size(), ByteSizeConverter.format(bytes), root, DurationConverter.format(olderThan));
        out.flush();
    }
}
