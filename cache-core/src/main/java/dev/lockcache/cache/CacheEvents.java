package dev.lockcache.cache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JDK Flight Recorder events of the cache, off unless a recording enables them: {@code dev.lockcache.Fetch} (one
 * per call; its duration is the call's). The strategy's {@code dev.lockcache.StrategyVerdict} event comes from lock-api.
 * Until JFR is initialized the event class is not even loaded (the first {@link Event} subclass brings in about a
 * hundred classes of JFR's own): a started event is held as an {@code Object}, {@code null} when nothing records.
 */
final class CacheEvents {

    private CacheEvents() {}

    /** A begun {@link Fetch} event, or {@code null} when JFR is not initialized. */
    static Object fetchBegun() {
        if (!FlightRecorder.isInitialized()) {
            return null;
        }
        Fetch event = new Fetch();
        event.begin();
        return event;
    }

    /** Ends {@code begun} (from {@link #fetchBegun}); {@code result} may be null on failure. */
    static void fetchEnded(Object begun, String key, FetchPolicy policy, Path result, String how) {
        if (begun != null) {
            ((Fetch) begun).end(key, policy, result, how);
        }
    }

    @Name("dev.lockcache.Fetch")
    @Label("Dataset Fetch")
    @Category("lockcache")
    @Description("One DatasetCache.fetch call: key, bytes returned, and how it ended")
    @StackTrace(false)
    static final class Fetch extends Event {
        @Label("Key")
        String key;

        @Label("Policy")
        String policy;

        @Label("Bytes")
        @DataAmount
        long bytes;

        @Label("Outcome")
        @Description("hit (answered without the lock), locked (answered under the key's lock) or failed: reason")
        String outcome;

        /** Fills and commits the event if a recording wants it; {@code result} may be null on failure. */
        void end(String fetchedKey, FetchPolicy fetchPolicy, Path result, String how) {
            if (!shouldCommit()) {
                return;
            }
            key = fetchedKey;
            policy = fetchPolicy.name();
            outcome = how;
            try {
                bytes = result == null ? 0 : Files.size(result);
            } catch (IOException e) {
                bytes = 0;
            }
            commit();
        }
    }
}
