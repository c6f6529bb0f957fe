package dev.lockcache.lock;

import java.util.Optional;
import java.util.function.Function;

/**
 * What the application or the operator asked of the lock strategy: an explicit provider name (which always
 * wins over the filesystem table), polyglot interop (lock with flock and fcntl together, provider {@code
 * double}), and the "I know" override that uses an explicit provider even where the evidence says it does not
 * exclude.
 *
 * @param provider the provider name asked for, or empty to let the strategy choose by filesystem
 * @param interop whether other programs lock the same files with flock(1), py-filelock, fcntl or lockf
 * @param force whether to use the explicit provider even where mount options or its probe say it does not
 *     exclude (at your own risk; logged as a warning)
 */
public record ProviderChoice(Optional<String> provider, boolean interop, boolean force) {

    /** System property naming the provider; {@link LockProviders#PROVIDER_PROPERTY} (no default). */
    public static final String PROVIDER_PROPERTY = LockProviders.PROVIDER_PROPERTY;

    /** Environment variable naming the provider; {@link LockProviders#PROVIDER_ENV}. */
    public static final String PROVIDER_ENV = LockProviders.PROVIDER_ENV;

    /** System property {@code true} to use an explicit provider that the evidence refuses (default false). */
    public static final String FORCE_PROPERTY = "lockcache.provider.force";

    /** Environment variable {@code true} to use an explicit provider that the evidence refuses (default false). */
    public static final String FORCE_ENV = "LOCKCACHE_PROVIDER_FORCE";

    /** System property {@code true} when other programs lock the same files (polyglot interop; default false). */
    public static final String INTEROP_PROPERTY = "lockcache.interop";

    /** Environment variable {@code true} when other programs lock the same files (default false). */
    public static final String INTEROP_ENV = "LOCKCACHE_INTEROP";

    public ProviderChoice {
        if (provider == null) {
            throw new IllegalArgumentException("provider must not be null; use Optional.empty() for automatic");
        }
        provider = provider.map(String::strip).filter(name -> !name.isEmpty());
    }

    /** Let the strategy choose by filesystem. */
    public static ProviderChoice automatic() {
        return new ProviderChoice(Optional.empty(), false, false);
    }

    /** Use provider {@code name}, unless the evidence says it does not exclude there. */
    public static ProviderChoice named(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("provider name must not be blank");
        }
        return new ProviderChoice(Optional.of(name), false, false);
    }

    /** The choice the system properties and environment variables above describe. */
    public static ProviderChoice fromEnvironment() {
        return fromEnvironment(System::getProperty, System::getenv);
    }

    /** The choice {@code properties} and {@code env} (lookups by name, {@code null} for unset) describe. */
    public static ProviderChoice fromEnvironment(Function<String, String> properties, Function<String, String> env) {
        return new ProviderChoice(
                Optional.ofNullable(setting(properties, env, PROVIDER_PROPERTY, PROVIDER_ENV)),
                Boolean.parseBoolean(setting(properties, env, INTEROP_PROPERTY, INTEROP_ENV)),
                Boolean.parseBoolean(setting(properties, env, FORCE_PROPERTY, FORCE_ENV)));
    }

    /** The same choice, asking for polyglot interop. */
    public ProviderChoice withInterop() {
        return new ProviderChoice(provider, true, force);
    }

    /** The same choice, overriding the evidence for an explicit provider ("I know"). */
    public ProviderChoice withForce() {
        return new ProviderChoice(provider, interop, true);
    }

    private static String setting(
            Function<String, String> properties, Function<String, String> env, String property, String variable) {
        String value = properties.apply(property);
        if (value == null || value.isBlank()) {
            value = env.apply(variable);
        }
        return value == null || value.isBlank() ? null : value.strip();
    }
}
