package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.testkit.LockProviderContractTest;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The conformance kit against a real ZooKeeper server: threads of this JVM, and child JVMs that find the
 * provider by name and read the server's address from the configuration file surefire points them to.
 *
 * <p>Three kit tests assume that the owner record lives in the lock file; this provider keeps it in the
 * ensemble and never opens the file, so they are skipped here with the reason (see {@link NotForRecordsOffDisk})
 * until the kit has a hook for such providers.
 */
@ExtendWith(ZooKeeperContractTest.NotForRecordsOffDisk.class)
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

    /** Skips the kit tests whose premise is an owner record in the lock file, each with why it does not apply. */
    static final class NotForRecordsOffDisk implements ExecutionCondition {
        private static final Map<String, String> NOT_APPLICABLE = Map.of(
                "anExistingFileThatIsNotARecordIsNeverWrittenOrRemoved",
                "asserts fencing token 0 for a foreign file; zookeeper never opens the file (that part holds) and its"
                        + " token comes from the ensemble",
                "anAcquisitionWhoseRecordCannotBeWrittenHoldsNothing",
                "limits the child's file size; zookeeper writes its record to the ensemble, not to a file",
                "aRecordWrittenByAnotherProcessDuringOurHoldIsReportedAtRelease",
                "overwrites the record file; zookeeper's record is node data (a node removed by hand is reported at"
                        + " release: ZooKeeperLockProviderTest)");

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            String why = context.getTestMethod()
                    .map(method -> NOT_APPLICABLE.get(method.getName()))
                    .orElse(null);
            return why == null
                    ? ConditionEvaluationResult.enabled("applies to zookeeper")
                    : ConditionEvaluationResult.disabled("not for a provider whose record is off disk: " + why);
        }
    }
}
