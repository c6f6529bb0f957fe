package dev.lockcache.lock.nio;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;

class FileChannelContractTest extends LockProviderContractTest {
    @Override
    protected LockProvider provider() {
        return new FileChannelLockProvider();
    }

    @Override
    protected java.util.Optional<LockProvider> providerWithBeforeLock(
            java.util.function.Consumer<java.nio.file.Path> hook) {
        return java.util.Optional.of(new FileChannelLockProvider(hook));
    }
}
