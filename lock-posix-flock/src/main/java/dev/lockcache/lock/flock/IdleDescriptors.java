package dev.lockcache.lock.flock;

import dev.lockcache.lock.spi.FcntlChannels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Open lock-file descriptors kept between uses, at most one per path and at most a bound in all, least
 * recently used closed first. A descriptor is either lent to one lock attempt or idle here, never both, so no
 * two attempts share an open file description. Closes go through {@link FcntlChannels#closeWhenUnlocked}, so
 * closing a descriptor never drops an fcntl lock this JVM holds on the same file (the {@code double} provider,
 * or {@code nio} on the same path).
 */
final class IdleDescriptors {
    /** System property: how many idle flock descriptors stay open (default {@value #DEFAULT_LIMIT}). */
    static final String LIMIT_PROPERTY = "lockcache.flock.idleDescriptors";

    static final int DEFAULT_LIMIT = 256;

    private final NativeFlock flock;
    private final FcntlChannels channels;
    private final int limit;
    private final int createMode;
    private final LinkedHashMap<Path, NativeFlock.Descriptor> idle = new LinkedHashMap<>(); // guarded by this

    IdleDescriptors(NativeFlock flock, FcntlChannels channels, int limit, int createMode) {
        this.flock = flock;
        this.channels = channels;
        this.limit = limit;
        this.createMode = createMode;
    }

    static int limitFromProperty() {
        String value = System.getProperty(LIMIT_PROPERTY, "");
        try {
            return value.isBlank() ? DEFAULT_LIMIT : Math.max(0, Integer.parseInt(value.strip()));
        } catch (NumberFormatException e) {
            return DEFAULT_LIMIT;
        }
    }

    /** An idle descriptor of {@code path}, or a fresh one. */
    NativeFlock.Descriptor borrow(Path path) throws IOException {
        NativeFlock.Descriptor reused;
        synchronized (this) {
            reused = idle.remove(path);
        }
        return reused != null ? reused : open(path);
    }

    /** A fresh descriptor of {@code path}, never shared with anyone. */
    NativeFlock.Descriptor open(Path path) throws IOException {
        return flock.open(path, createMode);
    }

    /** Takes back an unlocked descriptor for later use. */
    void giveBack(Path path, NativeFlock.Descriptor descriptor) {
        List<Map.Entry<Path, NativeFlock.Descriptor>> surplus = new ArrayList<>();
        synchronized (this) {
            NativeFlock.Descriptor previous = idle.put(path, descriptor);
            if (previous != null) {
                surplus.add(Map.entry(path, previous));
            }
            Iterator<Map.Entry<Path, NativeFlock.Descriptor>> oldest =
                    idle.entrySet().iterator();
            while (idle.size() > limit && oldest.hasNext()) {
                Map.Entry<Path, NativeFlock.Descriptor> victim = oldest.next();
                surplus.add(Map.entry(victim.getKey(), victim.getValue()));
                oldest.remove();
            }
        }
        for (Map.Entry<Path, NativeFlock.Descriptor> victim : surplus) {
            discard(victim.getKey(), victim.getValue());
        }
    }

    /** Closes a descriptor that holds no lock (once no fcntl lock on the file can be dropped by it). */
    void discard(Path path, NativeFlock.Descriptor descriptor) {
        channels.closeWhenUnlocked(path, () -> flock.close(descriptor.fd()));
    }

    synchronized int size() {
        return idle.size();
    }
}
