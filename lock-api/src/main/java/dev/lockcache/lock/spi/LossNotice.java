package dev.lockcache.lock.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loss signal of one held lock, for mechanisms that can lose a lock while it is held (a broken lease, a
 * lost session): {@link #lost(String)} is called by whoever finds out, once; every subscriber is told once,
 * late subscribers at once. Thread-safe.
 */
public final class LossNotice {
    private static final Logger LOG = LoggerFactory.getLogger(LossNotice.class);

    private final List<Consumer<String>> listeners = new ArrayList<>(2); // guarded by this
    private String reason; // guarded by this

    /** Tells every subscriber, once; later calls are ignored. */
    public void lost(String why) {
        if (why == null || why.isBlank()) {
            throw new IllegalArgumentException("a loss needs a reason");
        }
        List<Consumer<String>> told;
        synchronized (this) {
            if (reason != null) {
                return;
            }
            reason = why;
            told = List.copyOf(listeners);
            listeners.clear();
        }
        for (Consumer<String> listener : told) {
            tell(listener, why);
        }
    }

    /** Subscribes {@code listener}; tells it at once if the loss is already known. */
    public void subscribe(Consumer<String> listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener must not be null");
        }
        String known;
        synchronized (this) {
            known = reason;
            if (known == null) {
                listeners.add(listener);
                return;
            }
        }
        tell(listener, known);
    }

    /** The reason, once lost. */
    public synchronized Optional<String> reason() {
        return Optional.ofNullable(reason);
    }

    private static void tell(Consumer<String> listener, String why) {
        try {
            listener.accept(why);
        } catch (RuntimeException e) {
            LOG.warn("a lock-loss listener failed", e);
        }
    }
}
