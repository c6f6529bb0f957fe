package dev.lockcache.examples;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.OptionalBinder;
import dev.lockcache.cache.CacheModule;
import dev.lockcache.cache.CacheRoot;
import dev.lockcache.cache.DatasetCache;
import dev.lockcache.cache.FetchPolicy;
import dev.lockcache.cache.LockProvidersModule;
import dev.lockcache.lock.ProviderChoice;
import dev.lockcache.lock.spi.LockProvider;
import java.nio.file.Path;

/** The README's Guice wiring: a cache root, a policy and your own lock provider, bound by name. */
public final class GuiceQuickStart {

    public static DatasetCache cache(Path cacheRoot) {
        Injector injector = Guice.createInjector(
                new LockProvidersModule(), // every ServiceLoader provider, in a MapBinder<String, LockProvider>
                new CacheModule(), // DatasetCache, LockStrategy and defaults, each an OptionalBinder
                new AbstractModule() {
                    @Override
                    protected void configure() {
                        OptionalBinder.newOptionalBinder(binder(), Key.get(Path.class, CacheRoot.class))
                                .setBinding()
                                .toInstance(cacheRoot);
                        OptionalBinder.newOptionalBinder(binder(), FetchPolicy.class)
                                .setBinding()
                                .toInstance(FetchPolicy.ALWAYS);
                        MapBinder.newMapBinder(binder(), String.class, LockProvider.class)
                                .addBinding(MkdirLockProvider.NAME)
                                .to(MkdirLockProvider.class); // your own provider
                        OptionalBinder.newOptionalBinder(binder(), ProviderChoice.class)
                                .setBinding()
                                .toInstance(ProviderChoice.named(MkdirLockProvider.NAME));
                    }
                });
        return injector.getInstance(DatasetCache.class);
    }
}
