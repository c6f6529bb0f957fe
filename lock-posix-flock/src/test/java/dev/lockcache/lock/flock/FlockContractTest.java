package dev.lockcache.lock.flock;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;

class FlockContractTest extends LockProviderContractTest {
    @Override
    protected LockProvider provider() {
        return new FlockLockProvider();
    }
}
