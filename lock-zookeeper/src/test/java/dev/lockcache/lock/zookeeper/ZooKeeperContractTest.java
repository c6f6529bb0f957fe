package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The conformance kit against a real ZooKeeper server: threads of this JVM, and child JVMs that find the
 * provider by name and read the server's address from the configuration file surefire points them to.
 *
 * <p>The record lives in the ensemble, not in the lock file: {@link #recordInLockFile()} says so, and the kit skips
 * the cases about the file's record.
 */
class ZooKeeperContractTest extends LockProviderContractTest {

    private static ZooKeeperLockProvider provider;

    @BeforeAll
    static void startProvider() {
        TestZooKeeper.childConfigFile();
        provider = new ZooKeeperLockProvider(TestZooKeeper.config(TestZooKeeper.KIT_ROOT));
    }

    @AfterAll
    static void closeProvider() {
        if (provider != null) {
            provider.close();
        }
    }

    @Override
    protected LockProvider provider() {
        return provider;
    }

    @Override
    protected int incrementsPerThread() {
        return 50; // each cross-process hand-off is a few round trips to the server
    }

    @Override
    protected boolean recordInLockFile() {
        return false; // the record is the lock node's data; a node removed by hand is ZooKeeperLockProviderTest's
    }
}
