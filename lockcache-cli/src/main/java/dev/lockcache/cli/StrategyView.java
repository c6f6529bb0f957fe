package dev.lockcache.cli;

import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.LockStrategy;
import dev.lockcache.lock.ProviderChoice;
import dev.lockcache.lock.StrategyVerdict;
import java.nio.file.Path;
import java.util.Optional;

/** cache-core's strategy as the CLI asks it: which provider a directory gets, and why. */
final class StrategyView {

    private StrategyView() {}

    /**
     * The strategy's verdict for {@code directory} (which exists), honouring an explicit name or the
     * environment's ({@code lockcache.provider}, {@code LOCKCACHE_PROVIDER}, interop and force settings).
     */
    static StrategyVerdict verdict(Path directory, Optional<String> explicit) {
        ProviderChoice environment = ProviderChoice.fromEnvironment();
        ProviderChoice choice = explicit.map(
                        name -> new ProviderChoice(Optional.of(name), environment.interop(), environment.force()))
                .orElse(environment);
        return LockStrategy.byFilesystem(LockProviders.installed(), choice).choose(directory);
    }

    static ProviderSelection.Choice choose(Path directory) {
        StrategyVerdict verdict = verdict(directory, Optional.empty());
        return new ProviderSelection.Choice(
                verdict.provider(), "chosen for " + verdict.fileSystemType() + ": " + verdict.reason());
    }
}
