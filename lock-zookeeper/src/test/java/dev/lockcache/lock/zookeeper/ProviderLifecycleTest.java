package dev.lockcache.lock.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.testkit.ChildJvm;
import java.nio.file.Path;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A JVM that used the JVM-wide provider of {@code LockProviders.installed()} and never closed it ends its session
 * when it exits, by {@code System.exit} or by returning from {@code main}: the lock it still held is gone from the
 * ensemble at once. Without the provider's shutdown hook the contender node would stay until the session timeout
 * (4 s here, far longer than the check right after the child's exit).
 */
class ProviderLifecycleTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"exit", "return"})
    void aJvmThatExitsWithALockHeldEndsItsSessionAtOnce(String how) throws Exception {
        TestZooKeeper.childConfigFile();
        TestZooKeeper.server(); // writes the configuration file the child's installed provider reads
        Path lock = dir.toRealPath().resolve("exit-" + how + ".lock");
        String node = new ZnodePaths(TestZooKeeper.KIT_ROOT, List.of()).lockNode(lock);
        try (CuratorFramework observer = CuratorFrameworkFactory.newClient(
                        TestZooKeeper.server().getConnectString(), new RetryOneTime(100));
                ChildJvm child = ChildJvm.start(InstalledHolderChild.class, lock.toString(), how)) {
            observer.start();
            child.expect("HELD ");
            assertThat(contenders(observer, node))
                    .as("the child's node while it holds")
                    .hasSize(1);
            child.send("leave");
            assertThat(child.awaitExit()).isZero();
            assertThat(contenders(observer, node))
                    .as("the child's session ended with its JVM")
                    .isEmpty();
        }
    }

    private static List<String> contenders(CuratorFramework observer, String node) throws Exception {
        try {
            return observer.getChildren().forPath(node);
        } catch (KeeperException.NoNodeException gone) {
            return List.of(); // the container went with its last contender
        }
    }
}
