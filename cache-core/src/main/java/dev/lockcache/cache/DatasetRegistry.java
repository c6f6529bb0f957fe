package dev.lockcache.cache;

import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/** The dataset specs a cache knows, by key. Thread-safe; registering a key again replaces its spec. */
public final class DatasetRegistry {

    private final ConcurrentHashMap<String, DatasetSpec> specs = new ConcurrentHashMap<>();

    /** Adds or replaces {@code spec} under its key. */
    public DatasetRegistry register(DatasetSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("dataset spec must not be null");
        }
        specs.put(spec.key(), spec);
        return this;
    }

    /** The spec registered under {@code key}, if any. */
    public Optional<DatasetSpec> find(String key) {
        return key == null ? Optional.empty() : Optional.ofNullable(specs.get(key));
    }

    /**
     * The spec registered under {@code key}.
     *
     * @throws CacheException naming the key and the known keys when there is none
     */
    public DatasetSpec require(String key) {
        return find(key)
                .orElseThrow(() -> new CacheException(
                        "no dataset is registered under key '" + key + "' (known: " + keys()
                                + "); register a DatasetSpec for it first",
                        key == null ? "" : key,
                        null,
                        null));
    }

    /** The registered keys, sorted. */
    public Set<String> keys() {
        return new TreeSet<>(specs.keySet());
    }
}
