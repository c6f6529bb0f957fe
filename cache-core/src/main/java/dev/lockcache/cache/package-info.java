/**
 * A dataset cache that many threads, processes and hosts fill at once, exactly once per key, never showing a
 * partial file, never losing a good entry to a failed refresh.
 *
 * <p>Describe each dataset with a {@link dev.lockcache.cache.DatasetSpec} (key, {@link
 * dev.lockcache.cache.DatasetSource}, expected SHA-256 and size, file name), build a {@link
 * dev.lockcache.cache.DatasetCache} with {@link dev.lockcache.cache.DatasetCache#builder()} or Guice ({@link
 * dev.lockcache.cache.CacheModule} with {@link dev.lockcache.cache.LockProvidersModule}), and call {@code
 * fetch(key, requestedPath)} under a {@link dev.lockcache.cache.FetchPolicy}. The key's lock comes from the
 * provider a {@link dev.lockcache.lock.LockStrategy} picks for the cache root's filesystem; its {@link
 * dev.lockcache.lock.StrategyVerdict} says which and why. Failures are unchecked {@link
 * dev.lockcache.cache.CacheException}s that name the key, the path or the source. No method accepts or returns
 * {@code null}.
 *
 * <p>Inside, package-private classes do one thing each: {@code FetchPipeline} (the work inside the lock),
 * {@code SourceFetcher}, {@code HttpDownloader} and {@code HttpTransport} (getting bytes, over Apache HttpClient 5,
 * with timeouts of our own), {@code PartialDownload} (resumable downloads), {@code
 * EntryLayout} and {@code EntryMetadata} (files under the root), {@code Durability} (fsync and atomic rename),
 * {@code TransientIo} (retrying transient filesystem errors), {@code TrustedDirectory} (work relative to a
 * judged directory), {@code NameRules} (safe keys and file names). The per-filesystem table lives in lock-api.
 */
package dev.lockcache.cache;
