package dev.lockcache.cache;

/** When a fetch goes to the source. Applied inside the key's lock, so every caller sees one consistent answer. */
public enum FetchPolicy {
    /**
     * Use the cached entry if it is there and matches the spec; otherwise fetch it. All concurrent callers, in
     * every thread and process, share one fetch: the source is asked once, ever, until the entry goes away.
     */
    IF_MISSING,
    /**
     * Refresh: every caller gets bytes from a fetch that started after its own call began. Callers that arrive
     * while a refresh runs share the next one, so N concurrent callers cause at most two fetches. A failed
     * refresh keeps the previous entry.
     */
    ALWAYS,
    /** Offline: the cached entry, or a {@link CacheOfflineException} naming the key and the cache root. */
    NEVER
}
