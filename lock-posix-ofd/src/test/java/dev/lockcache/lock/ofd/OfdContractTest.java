package dev.lockcache.lock.ofd;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;

/** The conformance kit, run against the OFD provider. */
class OfdContractTest extends LockProviderContractTest {
    @Override
    protected LockProvider provider() {
        return new OfdLockProvider();
    }

    @Override
    protected java.util.Optional<LockProvider> providerWithBeforeLock(
            java.util.function.Consumer<java.nio.file.Path> hook) {
        return java.util.Optional.of(new OfdLockProvider(hook));
    }
}
