package dev.lockcache.lock.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZooKeeperConfigTest {

    @TempDir
    Path dir;

    private final Map<String, String> properties = new HashMap<>();
    private final Map<String, String> environment = new HashMap<>();

    private ZooKeeperConfig read() {
        return ZooKeeperConfig.read(properties::get, environment::get);
    }

    @Test
    void defaults() {
        ZooKeeperConfig config = read();
        assertThat(config.connectString()).isEqualTo(ZooKeeperConfig.DEFAULT_CONNECT);
        assertThat(config.sessionTimeout()).isEqualTo(ZooKeeperConfig.DEFAULT_SESSION_TIMEOUT);
        assertThat(config.connectionTimeout()).isEqualTo(ZooKeeperConfig.DEFAULT_CONNECTION_TIMEOUT);
        assertThat(config.root()).isEqualTo(ZooKeeperConfig.DEFAULT_ROOT);
        assertThat(config.bases()).isEmpty();
        assertThat(config.hasDigest()).isFalse();
        assertThat(config.acl()).isEqualTo(ZooKeeperConfig.Acl.OPEN);
        assertThat(config.suspendedGrace()).isZero();
        assertThat(config.retryMaxRetries()).isEqualTo(3);
    }

    @Test
    void systemPropertiesWinOverTheEnvironmentWhichWinsOverTheFile() throws IOException {
        Path file = privateFile("lockcache.zookeeper.connect=file:1\nlockcache.zookeeper.root=/from-file\n"
                + "lockcache.zookeeper.sessionTimeout=PT30S\n");
        environment.put(ZooKeeperConfig.CONFIG_FILE_ENV, file.toString());
        environment.put(ZooKeeperConfig.CONNECT_ENV, "env:2");
        environment.put(ZooKeeperConfig.ROOT_ENV, "/from-env");
        properties.put(ZooKeeperConfig.CONNECT_PROPERTY, "prop:3");
        ZooKeeperConfig config = read();
        assertThat(config.connectString()).isEqualTo("prop:3");
        assertThat(config.root()).isEqualTo("/from-env");
        assertThat(config.sessionTimeout()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void everyKeyIsRead() {
        properties.put(ZooKeeperConfig.SESSION_TIMEOUT_PROPERTY, "20000");
        properties.put(ZooKeeperConfig.CONNECTION_TIMEOUT_PROPERTY, "PT2S");
        properties.put(ZooKeeperConfig.RETRY_PROPERTY, "50, 800, 7");
        properties.put(ZooKeeperConfig.BASE_PROPERTY, "/mnt/a" + java.io.File.pathSeparator + "/mnt/b");
        environment.put(ZooKeeperConfig.DIGEST_ENV, "fleet:s3cret");
        environment.put(ZooKeeperConfig.SUSPENDED_GRACE_ENV, "PT1S");
        ZooKeeperConfig config = read();
        assertThat(config.sessionTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(config.connectionTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.retryBaseSleep()).isEqualTo(Duration.ofMillis(50));
        assertThat(config.retryMaxSleep()).isEqualTo(Duration.ofMillis(800));
        assertThat(config.retryMaxRetries()).isEqualTo(7);
        assertThat(config.bases()).containsExactly(Path.of("/mnt/a"), Path.of("/mnt/b"));
        assertThat(config.hasDigest()).isTrue();
        assertThat(config.acl()).as("a digest makes nodes creator-only").isEqualTo(ZooKeeperConfig.Acl.CREATOR);
        assertThat(config.suspendedGrace()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.toString()).doesNotContain("s3cret").contains("digest=(set)");

        properties.put(ZooKeeperConfig.ACL_PROPERTY, "open");
        assertThat(read().acl()).isEqualTo(ZooKeeperConfig.Acl.OPEN);
    }

    @Test
    void malformedValuesAreRefusedNamingTheKey() {
        properties.put(ZooKeeperConfig.SESSION_TIMEOUT_PROPERTY, "soon");
        assertThatThrownBy(this::read)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ZooKeeperConfig.SESSION_TIMEOUT_PROPERTY)
                .hasMessageContaining("PT15S");
        properties.clear();
        properties.put(ZooKeeperConfig.RETRY_PROPERTY, "100,2000");
        assertThatThrownBy(this::read).hasMessageContaining(ZooKeeperConfig.RETRY_PROPERTY);
        properties.clear();
        properties.put(ZooKeeperConfig.ACL_PROPERTY, "everyone");
        assertThatThrownBy(this::read).hasMessageContaining("'open' or 'creator'");
        properties.clear();
        properties.put(ZooKeeperConfig.DIGEST_PROPERTY, "no-colon");
        assertThatThrownBy(this::read).hasMessageContaining("user:password");
        properties.clear();
        properties.put(ZooKeeperConfig.SUSPENDED_GRACE_PROPERTY, "PT20S");
        assertThatThrownBy(this::read)
                .hasMessageContaining(ZooKeeperConfig.SUSPENDED_GRACE_PROPERTY)
                .hasMessageContaining("session timeout");
    }

    @Test
    void aConfigurationFileOthersCanWriteIsRefused() throws IOException {
        Path file = privateFile("lockcache.zookeeper.connect=evil:2181\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
        environment.put(ZooKeeperConfig.CONFIG_FILE_ENV, file.toString());
        assertThatThrownBy(this::read)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("writable by other accounts");
    }

    @Test
    void aSymlinkedOrOversizedConfigurationFileIsRefused() throws IOException {
        Path file = privateFile("lockcache.zookeeper.connect=a:1\n");
        Path link = Files.createSymbolicLink(dir.resolve("link.properties"), file);
        environment.put(ZooKeeperConfig.CONFIG_FILE_ENV, link.toString());
        assertThatThrownBy(this::read).hasMessageContaining("not a regular file");

        Path big = privateFile("x=" + "y".repeat(ZooKeeperConfig.MAX_CONFIG_BYTES) + "\n");
        environment.put(ZooKeeperConfig.CONFIG_FILE_ENV, big.toString());
        assertThatThrownBy(this::read).hasMessageContaining("larger than");
    }

    @Test
    void aFifoIsRefusedWithoutBlocking() throws Exception {
        Path fifo = dir.resolve("fifo.properties");
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", "-m", "600", fifo.toString()).start();
        } catch (IOException e) {
            assumeTrue(false, "needs mkfifo");
            return;
        }
        assumeTrue(mkfifo.waitFor() == 0, "mkfifo failed");
        environment.put(ZooKeeperConfig.CONFIG_FILE_ENV, fifo.toString());
        assertThatThrownBy(this::read).hasMessageContaining("not a regular file");
    }

    @Test
    void aBadConfigurationMakesTheDiscoveredProviderUnavailableInsteadOfBreakingDiscovery() {
        // the ServiceLoader constructor reads the real environment; an explicit bad value reaches it the same way
        String key = ZooKeeperConfig.SESSION_TIMEOUT_PROPERTY;
        String before = System.getProperty(key);
        System.setProperty(key, "never");
        try (ZooKeeperLockProvider provider = new ZooKeeperLockProvider()) {
            assertThat(provider.availability().available()).isFalse();
            assertThat(provider.availability().reason()).contains(key);
            assertThatThrownBy(() -> provider.tryLock(new dev.lockcache.lock.spi.LockRequest(
                            dir.resolve("x.lock"), dev.lockcache.lock.LockMode.EXCLUSIVE, "")))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(key);
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    @Test
    void basesInCode() {
        ZooKeeperConfig config = ZooKeeperConfig.connectingTo("h:1").withBases(List.of(Path.of("/mnt/share")));
        assertThat(config.bases()).containsExactly(Path.of("/mnt/share"));
        assertThat(config.connectString()).isEqualTo("h:1");
    }

    private Path privateFile(String content) throws IOException {
        Path file = Files.createTempFile(
                dir,
                "zk",
                ".properties",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, content);
        return file;
    }
}
