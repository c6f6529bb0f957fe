package dev.lockcache.cache;

import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/** Where a dataset's bytes come from: a {@code file:}, {@code http:} or {@code https:} URI, or a producer. */
public sealed interface DatasetSource {

    /** A one-line description for messages and the entry's metadata. */
    String describe();

    /** A URI source; the scheme must be {@code file}, {@code http} or {@code https}. */
    static DatasetSource url(URI uri) {
        return new Url(uri);
    }

    /** A URI source from its text form. */
    static DatasetSource url(String uri) {
        if (uri == null) {
            throw new IllegalArgumentException("source URI must not be null");
        }
        try {
            return new Url(URI.create(uri.strip()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("source '" + uri + "' is not a valid URI: " + e.getMessage(), e);
        }
    }

    /** A local file, read as a {@code file:} URI. */
    static DatasetSource file(Path path) {
        if (path == null) {
            throw new IllegalArgumentException("source path must not be null");
        }
        return new Url(path.toAbsolutePath().normalize().toUri());
    }

    /** A producer callback, described by {@code description} in messages and metadata. */
    static DatasetSource producer(String description, DatasetProducer producer) {
        return new Producer(description, producer);
    }

    /** A URI to read from. */
    record Url(URI uri) implements DatasetSource {
        private static final Set<String> SCHEMES = Set.of("file", "http", "https");

        public Url {
            if (uri == null) {
                throw new IllegalArgumentException("source URI must not be null");
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!SCHEMES.contains(scheme)) {
                throw new IllegalArgumentException(
                        "source '" + uri + "' has scheme '" + scheme + "'; use file:, http: or https:, or a producer");
            }
        }

        /** Whether this is an {@code http:} or {@code https:} URI. */
        public boolean isHttp() {
            return !uri.getScheme().equalsIgnoreCase("file");
        }

        @Override
        public String describe() {
            return uri.toString();
        }
    }

    /** A callback that writes the bytes into a path the cache gives it. */
    record Producer(String description, DatasetProducer producer) implements DatasetSource {
        public Producer {
            if (description == null || description.isBlank()) {
                throw new IllegalArgumentException("a producer source needs a description for messages");
            }
            if (producer == null) {
                throw new IllegalArgumentException("producer must not be null");
            }
            description = description.replaceAll("\\p{Cntrl}", " ").strip();
        }

        @Override
        public String describe() {
            return "producer '" + description + "'";
        }
    }
}
