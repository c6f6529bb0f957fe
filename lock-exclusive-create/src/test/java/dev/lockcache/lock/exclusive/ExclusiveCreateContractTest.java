package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;

/** The provider conformance kit, run against exclusive-create with its defaults. */
class ExclusiveCreateContractTest extends LockProviderContractTest {

    @Override
    protected LockProvider provider() {
        return new ExclusiveCreateLockProvider();
    }

    /**
     * Every acquisition creates, links, renames and deletes files, so a cycle costs a few hundred microseconds
     * on a quiet ext4 disk and milliseconds on a busy one; 50 rounds per thread still interleave threads and
     * processes thoroughly while keeping the module's test run short.
     */
    @Override
    protected int incrementsPerThread() {
        return 50;
    }
}
