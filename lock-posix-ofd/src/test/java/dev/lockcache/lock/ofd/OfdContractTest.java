package dev.lockcache.lock.ofd;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;

/** The conformance kit, run against the OFD provider. */
class OfdContractTest extends LockProviderContractTest {
    @Override
    protected LockProvider provider() {
        return new OfdLockProvider();
    }
}
