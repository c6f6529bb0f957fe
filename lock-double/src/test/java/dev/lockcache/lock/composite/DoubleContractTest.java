package dev.lockcache.lock.composite;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

/** The conformance kit, run against the double composite. */
class DoubleContractTest extends LockProviderContractTest {
    @Override
    protected LockProvider provider() {
        return new DoubleLockProvider();
    }

    @Override
    protected Optional<LockProvider> providerWithBeforeLock(Consumer<Path> beforeLock) {
        return Optional.of(new DoubleLockProvider(beforeLock));
    }
}
