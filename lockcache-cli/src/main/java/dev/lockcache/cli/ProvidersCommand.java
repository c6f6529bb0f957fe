package dev.lockcache.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockcache.cache.CacheDirectories;
import dev.lockcache.lock.LockException;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.StrategyVerdict;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lockcache providers}: every installed provider, available or not and why, its probe on a directory,
 * the filesystem type and mount options seen there, and which provider the strategy picks and why. What an
 * operator on NFS or Windows runs first.
 */
@Command(
        name = "providers",
        sortOptions = false,
        description = {
            "Lists the lock providers, whether each works on DIR, and which one the strategy picks there.",
            "For every provider found it shows whether it can run here and why, and its probe on DIR; then the"
                    + " filesystem type and mount options of DIR and the strategy's choice with its reason."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:A provider works on DIR.",
            "1:No provider works on DIR, or DIR does not exist.",
            "64:Bad usage: an unknown option."
        })
final class ProvidersCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(
            arity = "0..1",
            paramLabel = "DIR",
            description =
                    "The directory to judge. Default: the cache root (LOCKCACHE_HOME or the platform's cache directory).")
    Optional<Path> directory;

    @Option(names = "--json", description = "Print one JSON object for scripts.")
    boolean json;

    /** One provider's state. */
    record ProviderReport(
            String name, boolean available, String reason, List<String> features, String probe, String probeReason) {}

    @Override
    public Integer call() {
        Path dir = directory
                .map(d -> d.toAbsolutePath().normalize())
                .orElseGet(() -> CacheDirectories.ensureWritable(CacheDirectories.defaultRoot()));
        if (!Files.isDirectory(dir)) {
            throw new CommandFailure(
                    ExitCode.FAILURE, "no directory at " + dir + "; give an existing directory to judge");
        }
        List<ProviderReport> reports = new ArrayList<>();
        for (LockProvider provider : LockProviders.installed().values()) {
            reports.add(report(provider, dir));
        }
        Optional<StrategyVerdict> verdict;
        String failure = "";
        try {
            verdict = Optional.of(StrategyView.verdict(dir, Optional.empty()));
        } catch (LockException e) {
            verdict = Optional.empty();
            failure = Main.oneLine(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, toJson(dir, reports, verdict, failure));
        } else {
            print(out, dir, reports, verdict, failure);
        }
        return verdict.isPresent() ? ExitCode.OK : ExitCode.FAILURE;
    }

    private static ProviderReport report(LockProvider provider, Path dir) {
        Availability availability = provider.availability();
        List<String> features = provider.features().stream()
                .map(LockFeature::name)
                .map(f -> f.toLowerCase(Locale.ROOT).replace('_', '-'))
                .sorted()
                .collect(Collectors.toList());
        if (!availability.available()) {
            return new ProviderReport(
                    provider.name(), false, availability.reason(), features, "not-run", "unavailable here");
        }
        ProbeResult probe;
        try {
            probe = provider.probe(dir);
        } catch (RuntimeException e) {
            return new ProviderReport(
                    provider.name(),
                    true,
                    availability.reason(),
                    features,
                    "failed",
                    Main.oneLine(String.valueOf(e.getMessage())));
        }
        return new ProviderReport(
                provider.name(),
                true,
                availability.reason(),
                features,
                probe.verdict().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                probe.reason());
    }

    private static ObjectNode toJson(
            Path dir, List<ProviderReport> reports, Optional<StrategyVerdict> verdict, String failure) {
        ObjectNode root = Json.object();
        root.put("directory", dir.toString());
        ObjectNode filesystem = root.putObject("filesystem");
        filesystem.put("type", verdict.map(StrategyVerdict::fileSystemType).orElse(fileStoreType(dir)));
        ArrayNode options = filesystem.putArray("mountOptions");
        verdict.ifPresent(v -> v.mountOptions().forEach(options::add));
        ArrayNode providers = root.putArray("providers");
        reports.forEach(r -> providers.add(Json.tree(r)));
        if (verdict.isPresent()) {
            ObjectNode chosen = root.putObject("chosen");
            chosen.put("name", verdict.get().providerName());
            chosen.put("reason", verdict.get().reason());
            ArrayNode candidates = root.putArray("candidates");
            for (StrategyVerdict.Candidate c : verdict.get().candidates()) {
                ObjectNode node = candidates.addObject();
                node.put("provider", c.provider());
                node.put("outcome", c.outcome().name().toLowerCase(Locale.ROOT).replace('_', '-'));
                node.put("detail", c.detail());
            }
        } else {
            root.putNull("chosen");
            root.put("error", failure);
        }
        return root;
    }

    private static void print(
            PrintWriter out,
            Path dir,
            List<ProviderReport> reports,
            Optional<StrategyVerdict> verdict,
            String failure) {
        out.printf("directory   %s%n", dir);
        out.printf(
                "filesystem  %s%s%n",
                verdict.map(StrategyVerdict::fileSystemType).orElse(fileStoreType(dir)),
                verdict.map(v -> v.mountOptions().isEmpty() ? "" : " (" + String.join(",", v.mountOptions()) + ")")
                        .orElse(""));
        out.println();
        out.println("providers");
        for (ProviderReport r : reports) {
            out.printf("  %-17s %s: %s%n", r.name(), r.available() ? "available" : "unavailable", r.reason());
            out.printf("  %-17s probe %s: %s%n", "", r.probe(), r.probeReason());
            out.printf("  %-17s features %s%n", "", String.join(", ", r.features()));
        }
        out.println();
        if (verdict.isPresent()) {
            out.printf(
                    "chosen      %s: %s%n",
                    verdict.get().providerName(), verdict.get().reason());
            for (StrategyVerdict.Candidate c : verdict.get().candidates()) {
                out.printf(
                        "  - %s: %s%s%n",
                        c.provider(),
                        c.outcome().name().toLowerCase(Locale.ROOT).replace('_', ' '),
                        c.detail().isEmpty() ? "" : " (" + c.detail() + ")");
            }
        } else {
            out.printf("chosen      none: %s%n", failure);
        }
        out.flush();
    }

    private static String fileStoreType(Path dir) {
        try {
            return Files.getFileStore(dir).type();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
