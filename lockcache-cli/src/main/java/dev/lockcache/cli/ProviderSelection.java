package dev.lockcache.cli;

import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.LockProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Which lock provider a command uses: the one named with {@code --provider} (or {@code -Dlockcache.provider},
 * {@code LOCKCACHE_PROVIDER}), else the one cache-core's strategy picks for the lock's directory. An unknown
 * or unavailable name is a usage error that lists the installed providers.
 */
final class ProviderSelection {

    /** A provider and why it was chosen. */
    record Choice(LockProvider provider, String reason) {}

    private ProviderSelection() {}

    /** The provider for locks in {@code directory}. */
    static Choice forDirectory(CommandSpec spec, Optional<String> explicit, Path directory) {
        Map<String, LockProvider> installed = LockProviders.installed();
        if (explicit.isPresent()) {
            return new Choice(named(spec, explicit.get(), installed), "named with --provider");
        }
        Optional<String> configured = LockProviders.configuredName();
        if (configured.isPresent()) {
            return new Choice(
                    named(spec, configured.get(), installed),
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
        return StrategyView.choose(directory);
    }

    /** The installed, available provider called {@code name}. */
    static LockProvider named(CommandSpec spec, String name, Map<String, LockProvider> installed) {
        LockProvider provider = installed.get(name.strip());
        if (provider == null) {
            throw new ParameterException(
                    spec.commandLine(),
                    "unknown provider '" + name.strip() + "'; known: " + String.join(", ", installed.keySet()));
        }
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
