/**
 * The conformance kit every lock provider runs: {@link dev.lockcache.lock.testkit.LockProviderContractTest}
 * (subclass it with a few lines) and the child-JVM helpers it uses ({@link
 * dev.lockcache.lock.testkit.ChildJvm}, {@link dev.lockcache.lock.testkit.LockChild}). Shipped as lock-api's
 * test-jar.
 */
package dev.lockcache.lock.testkit;
