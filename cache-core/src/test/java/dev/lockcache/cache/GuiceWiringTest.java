package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.read;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.OptionalBinder;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.LockStrategy;
import dev.lockcache.lock.ProviderChoice;
import dev.lockcache.lock.StrategyVerdict;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuiceWiringTest {

    @TempDir
    Path tmp;

    private static final DatasetSpec SPEC =
            DatasetSpec.of("ds", DatasetSource.producer("text", t -> Files.writeString(t, "hello")), "data.txt");

    /** An application's own provider: the installed exclusive-create mechanism under another name, counting locks. */
    static final class AppLockProvider implements LockProvider {
        static final String NAME = "app-lock";
        final AtomicInteger locks = new AtomicInteger();
        private final LockProvider delegate = LockProviders.named("exclusive-create");

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public Set<LockFeature> features() {
            return delegate.features();
        }

        @Override
        public Availability availability() {
            return delegate.availability();
        }

        @Override
        public ProbeResult probe(Path directory) {
            return delegate.probe(directory);
        }

        @Override
        public Optional<HeldLock> tryLock(LockRequest request) throws IOException {
            Optional<HeldLock> held = delegate.tryLock(request);
            held.ifPresent(h -> locks.incrementAndGet());
            return held;
        }

        @Override
        public void release(HeldLock lock) throws IOException {
            delegate.release(lock);
        }
    }

    /** The application's module: its cache root, and whatever else it overrides. */
    private AbstractModule app(Path root, Runnable more) {
        return new AbstractModule() {
            @Override
            protected void configure() {
                OptionalBinder.newOptionalBinder(binder(), Key.get(Path.class, CacheRoot.class))
                        .setBinding()
                        .toInstance(root);
                more.run();
            }
        };
    }

    @Test
    void theDefaultModulesFetchADatasetThroughTheStrategysChoice() {
        Path root = tmp.resolve("root");
        Injector injector = Guice.createInjector(new LockProvidersModule(), new CacheModule(), app(root, () -> {}));
        DatasetCache cache = injector.getInstance(DatasetCache.class);
        assertThat(root).as("no I/O until the first fetch").doesNotExist();
        injector.getInstance(DatasetRegistry.class).register(SPEC);
        assertThat(read(cache.fetch("ds", tmp.resolve("out.txt")))).isEqualTo("hello");
        assertThat(injector.getInstance(DatasetCache.class)).isSameAs(cache);
        assertThat(cache.defaultOptions().policy()).isEqualTo(FetchPolicy.IF_MISSING);
        assertThat(cache.lockVerdict().providerName()).isEqualTo("exclusive-create");
        assertThat(injector.getInstance(Key.get(new com.google.inject.TypeLiteral<Map<String, LockProvider>>() {})))
                .containsOnlyKeys(LockProviders.installed().keySet());
    }

    @Test
    void anApplicationsOwnProviderAddedWithAddBindingAndChosenWithSetBindingIsUsed() {
        AppLockProvider mine = new AppLockProvider();
        Path root = tmp.resolve("root");
        Injector injector = Guice.createInjector(
                new LockProvidersModule(), new CacheModule(), app(root, () -> {}), new AbstractModule() {
                    @Override
                    protected void configure() {
                        MapBinder.newMapBinder(binder(), String.class, LockProvider.class)
                                .addBinding(AppLockProvider.NAME)
                                .toInstance(mine);
                        OptionalBinder.newOptionalBinder(binder(), ProviderChoice.class)
                                .setBinding()
                                .toInstance(ProviderChoice.named(AppLockProvider.NAME));
                        OptionalBinder.newOptionalBinder(binder(), FetchPolicy.class)
                                .setBinding()
                                .toInstance(FetchPolicy.ALWAYS);
                    }
                });
        DatasetCache cache = injector.getInstance(DatasetCache.class).register(SPEC);
        cache.fetch("ds", tmp.resolve("a.txt"));
        cache.fetch("ds", tmp.resolve("b.txt"));
        assertThat(cache.lockVerdict().providerName()).isEqualTo(AppLockProvider.NAME);
        assertThat(cache.defaultOptions().policy()).isEqualTo(FetchPolicy.ALWAYS);
        assertThat(mine.locks.get()).isEqualTo(2);
        assertThat(cache.entry("ds")).hasValueSatisfying(e -> {
            assertThat(e.lockProvider()).isEqualTo(AppLockProvider.NAME);
            assertThat(e.refresh()).isEqualTo(2);
        });
    }

    @Test
    void aStrategyBoundWithSetBindingReplacesTheDefault() {
        AppLockProvider mine = new AppLockProvider();
        AtomicInteger asked = new AtomicInteger();
        LockStrategy own = directory -> {
            asked.incrementAndGet();
            return new StrategyVerdict(
                    directory, mine, "any", java.util.List.of(), "the application said so", java.util.List.of());
        };
        Injector injector = Guice.createInjector(
                new LockProvidersModule(), new CacheModule(), app(tmp.resolve("root"), () -> {}), new AbstractModule() {
                    @Override
                    protected void configure() {
                        OptionalBinder.newOptionalBinder(binder(), LockStrategy.class)
                                .setBinding()
                                .toInstance(own);
                    }
                });
        DatasetCache cache = injector.getInstance(DatasetCache.class).register(SPEC);
        assertThat(read(cache.fetch("ds"))).isEqualTo("hello");
        assertThat(asked.get()).isEqualTo(1);
        assertThat(mine.locks.get()).isEqualTo(1);
    }

    @Test
    void thePlainBuilderGivesTheSameObjects() {
        DatasetCache cache = DatasetCache.builder()
                .root(tmp.resolve("root"))
                .providerChoice(ProviderChoice.automatic())
                .register(SPEC)
                .build();
        assertThat(read(cache.fetch("ds", tmp.resolve("out.txt")))).isEqualTo("hello");
        assertThat(cache.lockVerdict().providerName()).isEqualTo("exclusive-create");
        assertThat(cache.lockVerdict().describe()).contains("exclusive-create: chosen");
    }
}
