/**
 * The {@code zookeeper} lock provider: locks, shared locks and fencing tokens on an Apache ZooKeeper ensemble
 * through Curator. {@link dev.lockcache.lock.zookeeper.ZooKeeperLockProvider} is the provider and {@link
 * dev.lockcache.lock.zookeeper.ZooKeeperConfig} its configuration (system properties, environment, an optional
 * file, all keys documented there); the rest is package-private: the mapping of lock paths to znodes, the
 * read/write recipe on ephemeral-sequential nodes, and the session watch that reports lost locks.
 */
package dev.lockcache.lock.zookeeper;
