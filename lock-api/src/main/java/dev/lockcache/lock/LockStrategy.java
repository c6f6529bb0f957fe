package dev.lockcache.lock;

import dev.lockcache.lock.spi.LockProvider;
import java.nio.file.Path;
import java.util.Map;

/**
 * Picks the lock provider for a directory by what its filesystem really does. Implementations are thread-safe;
 * the default one decides once per mount and remembers. {@link FileLocks#forDirectory(Path)} and {@link
 * FileLocks#discover()} use {@link #standard()}; cache-core wires the same strategy into its cache.
 */
public interface LockStrategy {

    /**
     * The provider for locks in {@code directory} (which exists), with the evidence.
     *
     * @throws LockProviderException when no installed provider works there, or an explicit choice is unknown,
     *     unavailable, or refused by the evidence; the message says why and how to override
     */
    StrategyVerdict choose(Path directory);

    /**
     * The default strategy over {@code providers} (by name): an explicit {@code choice} wins unless the evidence
     * refuses it; otherwise the filesystem's row of the table in {@code DESIGN.md} ("Choosing a mechanism per
     * directory"), each candidate confirmed by its probe, missing ones skipped. Each call builds a new strategy
     * with its own verdicts; share it.
     */
    static LockStrategy byFilesystem(Map<String, LockProvider> providers, ProviderChoice choice) {
        if (providers == null || choice == null) {
            throw new IllegalArgumentException("providers and choice must not be null");
        }
        return new FilesystemLockStrategy(providers, choice, FilesystemLockStrategy.systemMounts());
    }

    /**
     * The JVM's strategy: {@link #byFilesystem} over {@link LockProviders#installed()} and {@link
     * ProviderChoice#fromEnvironment()} as they were on first use; one instance, so each mount is probed once
     * per JVM.
     */
    static LockStrategy standard() {
        return FilesystemLockStrategy.Standard.INSTANCE;
    }
}
