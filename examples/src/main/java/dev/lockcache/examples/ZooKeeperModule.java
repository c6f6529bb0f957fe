package dev.lockcache.examples;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.zookeeper.ZooKeeperConfig;
import dev.lockcache.lock.zookeeper.ZooKeeperLockProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The README's ZooKeeper wiring: a provider the application builds, owns and binds by name for the cache. */
public final class ZooKeeperModule extends AbstractModule {
    private final LockProvider zookeeper;

    public ZooKeeperModule(String connectString, Path sharedCacheRoot) {
        ZooKeeperConfig config = ZooKeeperConfig.connectingTo(connectString) // "zk1:2181,zk2:2181,zk3:2181"
                .withBases(List.of(sharedCacheRoot)) // where this host mounts the share
                .withSessionTimeout(Duration.ofSeconds(10));
        this.zookeeper = new ZooKeeperLockProvider(config); // close() it when the application stops
    }

    @Override
    protected void configure() {
        MapBinder.newMapBinder(binder(), String.class, LockProvider.class)
                .addBinding("zookeeper")
                .toInstance(zookeeper);
    }

    /** The provider, to close at shutdown. */
    public LockProvider provider() {
        return zookeeper;
    }
}
