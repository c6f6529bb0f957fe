package dev.lockcache.lock.ofd;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Idle lock-file descriptors kept open between uses, at most {@code capacity} of them, least recently used
 * closed first. A descriptor is taken out while it holds or tries a lock and put back when released, so an
 * eviction never closes a descriptor that holds a lock (which, for OFD locks, would not drop anyone else's lock
 * anyway). Thread-safe.
 */
final class DescriptorCache {

    private final int capacity;
    private final LinkedHashMap<Path, Descriptor> idle = new LinkedHashMap<>(16, 0.75f, true);

    DescriptorCache(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("descriptor cache capacity must be >= 0, was " + capacity);
        }
        this.capacity = capacity;
    }

    /** Removes and returns the idle descriptor of {@code path}, if one is kept. */
    Optional<Descriptor> take(Path path) {
        synchronized (idle) {
            return Optional.ofNullable(idle.remove(path));
        }
    }

    /** Keeps {@code descriptor} for the next use of its path, closing whatever no longer fits. */
    void put(Descriptor descriptor) {
        List<Descriptor> toClose = new ArrayList<>(2);
        synchronized (idle) {
            Descriptor previous = idle.put(descriptor.path(), descriptor);
            if (previous != null && previous != descriptor) {
                toClose.add(previous);
            }
            Iterator<Map.Entry<Path, Descriptor>> eldest = idle.entrySet().iterator();
            while (idle.size() > capacity && eldest.hasNext()) {
                toClose.add(eldest.next().getValue());
                eldest.remove();
            }
        }
        toClose.forEach(Descriptor::close);
    }

    /** Number of idle descriptors kept now. */
    int size() {
        synchronized (idle) {
            return idle.size();
        }
    }

    int capacity() {
        return capacity;
    }
}
