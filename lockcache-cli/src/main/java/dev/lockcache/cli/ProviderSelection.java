package dev.lockcache.cli;

import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.ProviderChoice;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.LockProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Which lock provider a command uses: the one named with {@code --provider} (or {@code -Dlockcache.provider},
 * {@code LOCKCACHE_PROVIDER}), else the one cache-core's strategy picks for the lock's directory. An unknown
 * or unavailable name is a usage error that lists the installed providers. The strategy's verdict is remembered
 * per mount between runs ({@link VerdictCache}) unless interop or force settings are in play.
 */
final class ProviderSelection {

    /** A provider and why it was chosen. */
    record Choice(LockProvider provider, String reason) {}

    private ProviderSelection() {}

    /** The provider for locks in {@code directory}. */
    static Choice forDirectory(CommandSpec spec, Optional<String> explicit, Path directory) {
        if (explicit.isPresent()) {
            return new Choice(named(spec, explicit.get()), "named with --provider");
        }
        Optional<String> configured = LockProviders.configuredName();
        if (configured.isPresent()) {
            return new Choice(
                    named(spec, configured.get()),
                    "named by " + LockProviders.PROVIDER_PROPERTY + " / " + LockProviders.PROVIDER_ENV);
        }
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new CommandFailure(
                    ExitCode.FAILURE,
                    "cannot create directory " + directory + ": " + e.getClass().getSimpleName() + " (" + e.getMessage()
                            + "); check the path and its permissions",
                    e);
        }
        if (ProviderChoice.fromEnvironment().interop()
                || ProviderChoice.fromEnvironment().force()) {
            return StrategyView.choose(directory);
        }
        Optional<VerdictCache> cache = VerdictCache.forDirectory(directory);
        Optional<String> remembered = cache.flatMap(VerdictCache::lookup);
        if (remembered.isPresent()) {
            try {
                return new Choice(named(spec, remembered.get()), "the strategy's verdict for this mount, remembered");
            } catch (ParameterException gone) {
                // no longer installed or available: judge again
            }
        }
        Choice chosen = StrategyView.choose(directory);
        cache.ifPresent(c -> c.remember(chosen.provider().name()));
        return chosen;
    }

    /**
     * The installed, available provider called {@code name}, built alone: providers are instantiated one at a
     * time in discovery order until one has that name, so a one-shot command does not pay for the others. Only an
     * unknown name loads them all, for the message.
     */
    static LockProvider named(CommandSpec spec, String name) {
        String wanted = name.strip();
        for (LockProvider provider : ServiceLoader.load(LockProvider.class, ProviderSelection.class.getClassLoader())) {
            if (provider.name().equals(wanted)) {
                return available(spec, provider);
            }
        }
        return named(spec, wanted, LockProviders.installed());
    }

    /** The installed, available provider called {@code name}. */
    static LockProvider named(CommandSpec spec, String name, Map<String, LockProvider> installed) {
        LockProvider provider = installed.get(name.strip());
        if (provider == null) {
            throw new ParameterException(
                    spec.commandLine(),
                    "unknown provider '" + name.strip() + "'; known: " + String.join(", ", installed.keySet()));
        }
        return available(spec, provider);
    }

    private static LockProvider available(CommandSpec spec, LockProvider provider) {
        Availability availability = provider.availability();
        if (!availability.available()) {
            throw new ParameterException(
                    spec.commandLine(),
                    "provider '" + provider.name() + "' is unavailable here: " + availability.reason()
                            + "; run 'lockcache providers' to see which ones work");
        }
        return provider;
    }
}
