package dev.lockcache.cli;

import dev.lockcache.lock.LockProviders;
import java.nio.file.Path;

/** The provider cache-core's strategy picks for a directory, with its reason. */
final class StrategyView {

    private StrategyView() {}

    static ProviderSelection.Choice choose(Path directory) {
        return new ProviderSelection.Choice(LockProviders.select(), "the only available provider");
    }
}
