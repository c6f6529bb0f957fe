package dev.lockcache.cache;

import dev.lockcache.lock.spi.LockProvider;
import java.nio.file.Path;
import java.util.Map;

/**
 * Picks the lock provider for a directory. Implementations are thread-safe; the default one decides once per
 * mount and remembers. Replace it through Guice ({@code OptionalBinder<LockStrategy>.setBinding()}) or {@link
 * DatasetCache.Builder#strategy}.
 */
public interface LockStrategy {

    /**
     * The provider for locks in {@code directory} (which exists), with the evidence.
     *
     * @throws dev.lockcache.lock.LockProviderException when no installed provider works there, or an explicit
     *     choice is unknown, unavailable, or refused by the evidence; the message says why and how to override
     */
    StrategyVerdict choose(Path directory);

    /**
     * The default strategy over {@code providers} (by name): an explicit {@code choice} wins unless the evidence
     * refuses it; otherwise the filesystem's row of the table in {@code DESIGN.md} ("Choosing a mechanism per
     * directory"), each candidate confirmed by its probe, missing ones skipped.
     */
    static LockStrategy byFilesystem(Map<String, LockProvider> providers, ProviderChoice choice) {
        return new FilesystemLockStrategy(providers, choice, FilesystemLockStrategy.systemMounts());
    }
}
