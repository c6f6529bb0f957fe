package dev.lockcache.cache;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.spi.LockProvider;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Puts lock providers into Guice's {@code Map<String, LockProvider>}, keyed by provider name. The no-argument
 * constructor takes every provider that {@link java.util.ServiceLoader} finds (discovery happens when the
 * module is constructed, not in {@code configure()}). An application adds its own in a module of its own:
 *
 * <pre>{@code
 * MapBinder.newMapBinder(binder(), String.class, LockProvider.class).addBinding("my-lock").to(MyLock.class);
 * }</pre>
 *
 * A second binding for a name already bound is a Guice configuration error: give your provider its own name.
 */
public final class LockProvidersModule extends AbstractModule {

    private final Map<String, LockProvider> providers;

    /** The providers on the class path, through {@link LockProviders#installed()}. */
    public LockProvidersModule() {
        this(LockProviders.installed());
    }

    /** Exactly {@code providers}, keyed by name. */
    public LockProvidersModule(Map<String, LockProvider> providers) {
        if (providers == null) {
            throw new IllegalArgumentException("providers must not be null");
        }
        this.providers = new LinkedHashMap<>(providers);
    }

    @Override
    protected void configure() {
        MapBinder<String, LockProvider> byName = MapBinder.newMapBinder(binder(), String.class, LockProvider.class);
        providers.forEach((name, provider) -> byName.addBinding(name).toInstance(provider));
    }
}
