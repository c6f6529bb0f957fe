package dev.lockcache.lock.flock;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;

class DoubleContractTest extends LockProviderContractTest {
    @Override
    protected LockProvider provider() {
        return new DoubleLockProvider();
    }
}
