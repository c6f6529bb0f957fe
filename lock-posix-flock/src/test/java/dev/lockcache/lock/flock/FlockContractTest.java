package dev.lockcache.lock.flock;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;

class FlockContractTest extends LockProviderContractTest {
    @Override
    protected LockProvider provider() {
        return new FlockLockProvider();
    }

    @Override
    protected java.util.Optional<LockProvider> providerWithBeforeLock(
            java.util.function.Consumer<java.nio.file.Path> hook) {
        return java.util.Optional.of(new FlockLockProvider(hook));
    }
}
