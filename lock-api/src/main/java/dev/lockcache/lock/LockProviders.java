package dev.lockcache.lock;

import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.LockProvider;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * Finds lock providers with {@link ServiceLoader} and picks one without guessing: an explicit name wins;
 * otherwise exactly one available provider must be installed. Anything else is a {@link
 * LockProviderException} that lists what was found — never a silent no-op lock. Choosing by filesystem
 * among several providers is the job of {@link LockStrategy} ({@link FileLocks#forDirectory}, {@link
 * FileLocks#discover()}).
 */
public final class LockProviders {

    /** System property naming the provider to use (no default). */
    public static final String PROVIDER_PROPERTY = "lockcache.provider";

    /** Environment variable naming the provider to use when the system property is not set (no default). */
    public static final String PROVIDER_ENV = "LOCKCACHE_PROVIDER";

    private LockProviders() {}

    /**
     * Every provider on the class path, in discovery order, keyed by name: built once per JVM and shared by
     * every caller (so each provider's descriptor cache and threads exist once). These instances belong to the
     * JVM: do not close them. A caller that wants instances of its own uses {@link #load(ClassLoader)} and
     * closes them.
     */
    public static Map<String, LockProvider> installed() {
        return JvmProviders.MAP;
    }

    /** The JVM-wide providers, built on first use. */
    private static final class JvmProviders {
        static final Map<String, LockProvider> MAP =
                java.util.Collections.unmodifiableMap(load(LockProviders.class.getClassLoader()));
    }

    /** Every provider visible to {@code loader}, keyed by name (same as {@link #load}). */
    public static Map<String, LockProvider> installed(ClassLoader loader) {
        return load(loader);
    }

    /**
     * New instances of every provider visible to {@code loader}, keyed by name; the caller owns them and
     * closes them when done.
     */
    public static Map<String, LockProvider> load(ClassLoader loader) {
        Map<String, LockProvider> found = new LinkedHashMap<>();
        for (LockProvider provider : ServiceLoader.load(LockProvider.class, loader)) {
            LockProvider previous = found.putIfAbsent(provider.name(), provider);
            if (previous != null && previous.getClass() != provider.getClass()) {
                throw new LockProviderException(
                        "two providers are named '" + provider.name() + "': "
                                + previous.getClass().getName() + " and "
                                + provider.getClass().getName() + "; remove one from the class path",
                        List.of(
                                previous.getClass().getName(),
                                provider.getClass().getName()));
            }
        }
        return found;
    }

    /** The installed provider called {@code name}, available or not. */
    public static LockProvider named(String name) {
        return named(name, installed());
    }

    /** The provider called {@code name} among {@code providers}. */
    public static LockProvider named(String name, Map<String, LockProvider> providers) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("provider name must not be blank");
        }
        LockProvider provider = providers.get(name.strip());
        if (provider == null) {
            throw new LockProviderException(
                    "no lock provider named '" + name.strip() + "'; installed: " + describe(providers)
                            + ". Add the provider's module to the class path or use one of these names",
                    states(providers));
        }
        return provider;
    }

    /** The name configured through {@link #PROVIDER_PROPERTY} or {@link #PROVIDER_ENV}, if any. */
    public static Optional<String> configuredName() {
        return configuredName(System::getProperty, System::getenv);
    }

    static Optional<String> configuredName(Function<String, String> properties, Function<String, String> env) {
        String value = properties.apply(PROVIDER_PROPERTY);
        if (value == null || value.isBlank()) {
            value = env.apply(PROVIDER_ENV);
        }
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
    }

    /**
     * The configured provider if a name is set (it must be available), else the one available provider.
     *
     * @throws LockProviderException for an unknown or unavailable name, for no available provider, and for
     *     several with no name to choose among them
     */
    public static LockProvider select() {
        return select(configuredName(), installed());
    }

    static LockProvider select(Optional<String> configured, Map<String, LockProvider> providers) {
        if (configured.isPresent()) {
            LockProvider chosen = named(configured.get(), providers);
            Availability availability = chosen.availability();
            if (!availability.available()) {
                throw new LockProviderException(
                        "lock provider '" + chosen.name() + "' was chosen (" + PROVIDER_PROPERTY + " / " + PROVIDER_ENV
                                + ") but is unavailable here: " + availability.reason(),
                        states(providers));
            }
            return chosen;
        }
        List<LockProvider> available = candidates(providers);
        if (available.size() == 1) {
            return available.get(0);
        }
        String problem = available.isEmpty() ? "no lock provider is available" : "several lock providers are available";
        throw new LockProviderException(
                problem + " (" + describe(providers) + "); set -D" + PROVIDER_PROPERTY + "=NAME or " + PROVIDER_ENV
                        + "=NAME, or let the filesystem choose: FileLocks.forDirectory(dir) or FileLocks.discover()",
                states(providers));
    }

    /** The available providers that count without being named (not {@link LockProvider#optIn()}), in order. */
    static List<LockProvider> candidates(Map<String, LockProvider> providers) {
        List<LockProvider> available = new ArrayList<>();
        for (LockProvider provider : providers.values()) {
            if (!provider.optIn() && provider.availability().available()) {
                available.add(provider);
            }
        }
        return available;
    }

    private static List<String> states(Map<String, LockProvider> providers) {
        List<String> states = new ArrayList<>();
        for (LockProvider provider : providers.values()) {
            Availability a = provider.availability();
            states.add(provider.name() + (a.available() ? " (available)" : " (unavailable: " + a.reason() + ")"));
        }
        return states;
    }

    private static String describe(Map<String, LockProvider> providers) {
        return providers.isEmpty() ? "none on the class path" : String.join(", ", states(providers));
    }
}
