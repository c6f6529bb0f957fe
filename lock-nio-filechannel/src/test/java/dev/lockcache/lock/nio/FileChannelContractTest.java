package dev.lockcache.lock.nio;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;

class FileChannelContractTest extends LockProviderContractTest {
    @Override
    protected LockProvider provider() {
        return new FileChannelLockProvider();
    }
}
