package dev.lockcache.lock;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;

/** Runs the conformance kit on lock-api's own test provider, which proves the kit itself. */
class CreateNewContractTest extends LockProviderContractTest {
    @Override
    protected LockProvider provider() {
        return new CreateNewTestProvider();
    }
}
