package dev.lockcache.cache;

import dev.lockcache.lock.spi.LockProvider;
import java.nio.file.Path;
import java.util.Map;

/**
 * Picks the lock provider for the cache's lock directory: cache-core's face of {@link
 * dev.lockcache.lock.LockStrategy}, which lives in lock-api so that plain locks get the same per-filesystem
 * choice. Implementations are thread-safe. Replace it through Guice ({@code
 * OptionalBinder<LockStrategy>.setBinding()}) or {@link DatasetCache.Builder#strategy}.
 */
public interface LockStrategy {

    /**
     * The provider for locks in {@code directory} (which exists), with the evidence.
     *
     * @throws dev.lockcache.lock.LockProviderException when no installed provider works there, or an explicit
     *     choice is unknown, unavailable, or refused by the evidence; the message says why and how to override
     */
    StrategyVerdict choose(Path directory);

    /** lock-api's {@link dev.lockcache.lock.LockStrategy#byFilesystem} with {@code choice}, seen from the cache. */
    static LockStrategy byFilesystem(Map<String, LockProvider> providers, ProviderChoice choice) {
        if (choice == null) {
            throw new IllegalArgumentException("provider choice must not be null");
        }
        return of(dev.lockcache.lock.LockStrategy.byFilesystem(providers, choice.toLockChoice()));
    }

    /** {@code strategy} (lock-api's), seen from the cache. */
    static LockStrategy of(dev.lockcache.lock.LockStrategy strategy) {
        if (strategy == null) {
            throw new IllegalArgumentException("strategy must not be null");
        }
        return directory -> StrategyVerdict.of(strategy.choose(directory));
    }
}
