package dev.lockcache.lock.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.strings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.zookeeper.common.PathUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZnodePathsTest {

    @TempDir
    Path dir;

    @Test
    void withoutABaseTheAbsolutePathNamesTheNode() throws IOException {
        ZnodePaths paths = new ZnodePaths("/lockcache", List.of());
        assertThat(paths.lockNode(Path.of("/data/cache/.locks/mnist.lock")))
                .isEqualTo("/lockcache/data/cache/.locks/mnist.lock");
    }

    @Test
    void hostsThatMountTheShareAtDifferentPathsMeetOnOneNode() throws IOException {
        Path hostA = Files.createDirectories(dir.resolve("mnt").resolve("share"));
        Path hostB = Files.createDirectories(dir.resolve("srv").resolve("team-cache"));
        ZnodePaths a = new ZnodePaths("/lockcache", List.of(hostA));
        ZnodePaths b = new ZnodePaths("/lockcache", List.of(Path.of("/elsewhere"), hostB));
        assertThat(a.lockNode(hostA.resolve(".locks/mnist.lock")))
                .isEqualTo(b.lockNode(hostB.resolve(".locks/mnist.lock")))
                .isEqualTo("/lockcache/.locks/mnist.lock");
    }

    @Test
    void theLongestBaseWinsAndABaseGivenThroughASymlinkIsResolved() throws IOException {
        Path outer = Files.createDirectories(dir.resolve("outer"));
        Path inner = Files.createDirectories(outer.resolve("inner"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), inner);
        ZnodePaths paths = new ZnodePaths("/r", List.of(outer.toRealPath(), link));
        assertThat(paths.lockNode(inner.toRealPath().resolve("x.lock"))).isEqualTo("/r/x.lock");
        assertThat(paths.lockNode(outer.toRealPath().resolve("y.lock"))).isEqualTo("/r/y.lock");
    }

    @Test
    void aBaseUnderASymlinkThatAppearsAfterTheFirstLookupIsResolvedOnceItExists() throws IOException {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("tmp"), real);
        Path cache = link.resolve("cache"); // a cache root made on first use, under a symlinked /tmp
        ZnodePaths paths = new ZnodePaths("/r", List.of(cache));
        assertThatThrownBy(() -> paths.lockNode(real.resolve("elsewhere/z.lock")))
                .hasMessageContaining("under none of the shared bases");
        Files.createDirectories(cache);
        assertThat(paths.lockNode(real.resolve("cache/locks/k.lock")))
                .as("the real path of the lock, once the base exists")
                .isEqualTo("/r/locks/k.lock");
    }

    @Test
    void aPathOutsideEveryBaseIsRefusedNamingTheKey() {
        ZnodePaths paths = new ZnodePaths("/r", List.of(dir.resolve("share")));
        assertThatThrownBy(() -> paths.lockNode(Path.of("/var/tmp/x.lock")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("/var/tmp/x.lock")
                .hasMessageContaining(ZooKeeperConfig.BASE_PROPERTY);
    }

    @Test
    void namesThatCouldPassForContendersOrAreNotLegalAreEscaped() {
        assertThat(ZnodePaths.encode("_c_0123-write-0000000001")).isEqualTo("%5Fc_0123-write-0000000001");
        assertThat(ZnodePaths.encode("50%")).isEqualTo("50%25");
        assertThat(ZnodePaths.encode("a b")).isEqualTo("a%20b");
        assertThat(ZnodePaths.encode("é")).isEqualTo("%C3%A9");
        assertThat(ZnodePaths.encode("..")).isEqualTo("%2E%2E");
        assertThat(ZnodePaths.encode("\uD800")).isEqualTo("%UD800").isNotEqualTo(ZnodePaths.encode("\uD801"));
        assertThat(ZnodePaths.encode("?")).isEqualTo("%3F");
        assertThat(ZnodePaths.encode("plain-Name_1.lock")).isEqualTo("plain-Name_1.lock");
    }

    @Test
    void everyEncodedNameIsALegalZnodeNameNeverAContenderAndTheMappingIsOneToOne() {
        qt().forAll(
                        strings().allPossible().ofLengthBetween(1, 12),
                        strings().allPossible().ofLengthBetween(1, 12))
                .checkAssert((x, y) -> {
                    String ex = ZnodePaths.encode(x);
                    PathUtils.validatePath("/r/" + ex);
                    assertThat(ZnodePaths.contender(ex)).isEmpty();
                    assertThat(ex.startsWith("_")).isFalse();
                    if (!x.equals(y)) {
                        assertThat(ex).isNotEqualTo(ZnodePaths.encode(y));
                    }
                });
    }

    @Test
    void contendersAreParsedStrictly() {
        String uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assertThat(ZnodePaths.contender("_c_" + uuid + "-write-0000000042")).hasValueSatisfying(c -> {
            assertThat(c.write()).isTrue();
            assertThat(c.sequence()).isEqualTo(42);
        });
        assertThat(ZnodePaths.contender("_c_" + uuid + "-read-0000000007"))
                .hasValueSatisfying(c -> assertThat(c.write()).isFalse());
        assertThat(ZnodePaths.contender("_c_" + uuid + "-write-000000004")).isEmpty();
        assertThat(ZnodePaths.contender("_c_" + uuid + "-other-0000000042")).isEmpty();
        assertThat(ZnodePaths.contender("_c_" + uuid + "-write-00000000x2")).isEmpty();
        assertThat(ZnodePaths.contender("mnist.lock")).isEmpty();
        assertThat(
                        ZnodePaths.queue(List.of(
                                        "_c_" + uuid + "-read-0000000009", "sub", "_c_" + uuid + "-write-0000000003"))
                                .stream()
                                .map(ZnodePaths.Contender::sequence))
                .containsExactly(3L, 9L);
    }

    @Test
    void rootsAreChecked() {
        assertThatThrownBy(() -> ZnodePaths.checkRoot("lockcache")).hasMessageContaining(ZooKeeperConfig.ROOT_PROPERTY);
        assertThatThrownBy(() -> ZnodePaths.checkRoot("/lockcache/")).hasMessageContaining("absolute znode path");
        assertThatThrownBy(() -> ZnodePaths.checkRoot("/zookeeper/x")).hasMessageContaining("ZooKeeper's own");
        assertThat(ZnodePaths.checkRoot("/team/locks")).isEqualTo("/team/locks");
    }
}
