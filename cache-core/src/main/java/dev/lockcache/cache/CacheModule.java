package dev.lockcache.cache;

import com.google.inject.AbstractModule;
import com.google.inject.Inject;
import com.google.inject.Key;
import com.google.inject.Provider;
import com.google.inject.Singleton;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.OptionalBinder;
import dev.lockcache.lock.LockStrategy;
import dev.lockcache.lock.ProviderChoice;
import dev.lockcache.lock.spi.LockProvider;
import java.nio.file.Path;
import java.util.Map;

/**
 * Binds a {@link DatasetCache} and what it is made of, each as an {@link OptionalBinder} default that an
 * application replaces with {@code setBinding()}:
 *
 * <ul>
 *   <li>{@code @CacheRoot Path} — {@link CacheDirectories#defaultRoot()};
 *   <li>{@link FetchPolicy} — {@link FetchPolicy#IF_MISSING};
 *   <li>{@link ProviderChoice} — {@link ProviderChoice#fromEnvironment()} (system properties, environment);
 *   <li>{@link HttpTimeouts} — {@link HttpTimeouts#DEFAULT};
 *   <li>{@link DatasetRegistry} — one empty registry (singleton);
 *   <li>{@link LockStrategy} — {@link LockStrategy#byFilesystem} over the {@code Map<String, LockProvider>} that
 *       {@link LockProvidersModule} (and the application) fill (singleton);
 *   <li>{@link DatasetCache} — built from all of the above (singleton).
 * </ul>
 *
 * Install it with {@link LockProvidersModule}. {@code configure()} only declares bindings; defaults are
 * computed when they are first injected.
 */
public final class CacheModule extends AbstractModule {

    @Override
    protected void configure() {
        MapBinder.newMapBinder(binder(), String.class, LockProvider.class);
        OptionalBinder.newOptionalBinder(binder(), Key.get(Path.class, CacheRoot.class))
                .setDefault()
                .toProvider(DefaultRoot.class);
        OptionalBinder.newOptionalBinder(binder(), FetchPolicy.class)
                .setDefault()
                .toInstance(FetchPolicy.IF_MISSING);
        OptionalBinder.newOptionalBinder(binder(), ProviderChoice.class)
                .setDefault()
                .toProvider(EnvironmentChoice.class);
        OptionalBinder.newOptionalBinder(binder(), HttpTimeouts.class)
                .setDefault()
                .toInstance(HttpTimeouts.DEFAULT);
        OptionalBinder.newOptionalBinder(binder(), DatasetRegistry.class)
                .setDefault()
                .toProvider(EmptyRegistry.class)
                .in(Singleton.class);
        OptionalBinder.newOptionalBinder(binder(), LockStrategy.class)
                .setDefault()
                .toProvider(StrategyFromBindings.class)
                .in(Singleton.class);
        OptionalBinder.newOptionalBinder(binder(), DatasetCache.class)
                .setDefault()
                .toProvider(CacheFromBindings.class)
                .in(Singleton.class);
    }

    static final class DefaultRoot implements Provider<Path> {
        @Override
        public Path get() {
            return CacheDirectories.defaultRoot();
        }
    }

    static final class EnvironmentChoice implements Provider<ProviderChoice> {
        @Override
        public ProviderChoice get() {
            return ProviderChoice.fromEnvironment();
        }
    }

    static final class EmptyRegistry implements Provider<DatasetRegistry> {
        @Override
        public DatasetRegistry get() {
            return new DatasetRegistry();
        }
    }

    static final class StrategyFromBindings implements Provider<LockStrategy> {
        private final Map<String, LockProvider> providers;
        private final ProviderChoice choice;

        @Inject
        StrategyFromBindings(Map<String, LockProvider> providers, ProviderChoice choice) {
            this.providers = providers;
            this.choice = choice;
        }

        @Override
        public LockStrategy get() {
            return LockStrategy.byFilesystem(providers, choice);
        }
    }

    static final class CacheFromBindings implements Provider<DatasetCache> {
        private final Path root;
        private final FetchPolicy policy;
        private final HttpTimeouts timeouts;
        private final DatasetRegistry registry;
        private final LockStrategy strategy;

        @Inject
        CacheFromBindings(
                @CacheRoot Path root,
                FetchPolicy policy,
                HttpTimeouts timeouts,
                DatasetRegistry registry,
                LockStrategy strategy) {
            this.root = root;
            this.policy = policy;
            this.timeouts = timeouts;
            this.registry = registry;
            this.strategy = strategy;
        }

        @Override
        public DatasetCache get() {
            return DatasetCache.builder()
                    .root(root)
                    .defaultPolicy(policy)
                    .httpTimeouts(timeouts)
                    .registry(registry)
                    .strategy(strategy)
                    .build();
        }
    }
}
