package dev.lockcache.cache;

import java.net.URI;
import java.util.Locale;
import java.util.Optional;

/**
 * An {@code Authorization} header for one host (a private mirror), sent only in requests to that host: a redirect
 * to another host, or to plain {@code http:} from {@code https:}, drops it. Its value is never logged, never part
 * of an error message and never shown by {@link #toString()}.
 *
 * <p>Configured by {@link DatasetCache.Builder#httpAuthorization(String, String)}, else by the system properties
 * {@value #VALUE_PROPERTY} and {@value #HOST_PROPERTY}, else by the environment variables {@value #VALUE_ENV}
 * and {@value #HOST_ENV}. The value is the whole header value ({@code Bearer abc…}, {@code Basic …}); the host is
 * a host name, optionally with {@code :port}. A value without a host is ignored (a token must never go to every
 * server a spec names). Default: none.
 */
public final class HttpAuthorization {

    /** System property with the header value. */
    public static final String VALUE_PROPERTY = "lockcache.http.authorization";
    /** System property with the host the header is for. */
    public static final String HOST_PROPERTY = "lockcache.http.authorization.host";
    /** Environment variable with the header value. */
    public static final String VALUE_ENV = "LOCKCACHE_HTTP_AUTHORIZATION";
    /** Environment variable with the host the header is for. */
    public static final String HOST_ENV = "LOCKCACHE_HTTP_AUTHORIZATION_HOST";

    static final HttpAuthorization NONE = new HttpAuthorization("", "");

    private final String host;
    private final String value;

    private HttpAuthorization(String host, String value) {
        this.host = host;
        this.value = value;
    }

    /**
     * The header {@code value} for requests to {@code host} ({@code name} or {@code name:port}).
     *
     * @throws IllegalArgumentException when either is blank or the value holds a line break
     */
    public static HttpAuthorization of(String host, String value) {
        if (host == null || host.isBlank() || value == null || value.isBlank()) {
            throw new IllegalArgumentException("an HTTP authorization needs a host and a header value");
        }
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("the HTTP authorization value must be one line");
        }
        return new HttpAuthorization(host.strip().toLowerCase(Locale.ROOT), value.strip());
    }

    /** From the system properties, else the environment; {@link #NONE} when neither names a host and a value. */
    static HttpAuthorization fromEnvironment() {
        String value = System.getProperty(VALUE_PROPERTY);
        String host = System.getProperty(HOST_PROPERTY);
        if (value == null || value.isBlank()) {
            value = System.getenv(VALUE_ENV);
            host = System.getenv(HOST_ENV);
        }
        if (value == null || value.isBlank() || host == null || host.isBlank()) {
            return NONE;
        }
        return of(host, value);
    }

    /** The header value for a request to {@code uri}, when it goes to this host. */
    Optional<String> valueFor(URI uri) {
        if (value.isEmpty() || uri.getHost() == null) {
            return Optional.empty();
        }
        String name = uri.getHost().toLowerCase(Locale.ROOT);
        int port = uri.getPort() >= 0 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
        boolean matches = host.equals(name) || host.equals(name + ":" + port);
        return matches ? Optional.of(value) : Optional.empty();
    }

    /** Whether a redirect from {@code from} to {@code to} may keep the header: same host and port, no downgrade. */
    static boolean keepsAcross(URI from, URI to) {
        return from.getHost() != null
                && from.getHost().equalsIgnoreCase(to.getHost())
                && from.getPort() == to.getPort()
                && !(from.getScheme().equalsIgnoreCase("https")
                        && to.getScheme().equalsIgnoreCase("http"));
    }

    @Override
    public String toString() {
        return value.isEmpty() ? "HttpAuthorization[none]" : "HttpAuthorization[for " + host + ", value hidden]";
    }
}
