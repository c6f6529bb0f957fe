package dev.lockcache.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BadInputTest {

    @TempDir
    Path tmp;

    private static final DatasetSource SOURCE = DatasetSource.producer("p", t -> Files.writeString(t, "x"));

    @ParameterizedTest
    @ValueSource(
            strings = {
                "../etc",
                "a/../../b",
                "..",
                ".",
                "/abs",
                "\\\\server\\share",
                "C:\\data",
                "a/b",
                "",
                ".hidden",
                "CON",
                "con.txt",
                "Lpt1",
                "nul.tar.gz",
                "trailing.",
                "sp ace",
                "a\u0000b"
            })
    void keysThatAreNotOneSafeSegmentAreRefusedByName(String key) {
        assertThatThrownBy(() -> DatasetSpec.of(key, SOURCE, "file.bin"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dataset key '" + key + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/etc/passwd", "C:\\Windows\\win.ini", "../../x", "dir/file", "AUX", "com9.log"})
    void fileNamesThatAreNotOneSafeSegmentAreRefusedByName(String name) {
        assertThatThrownBy(() -> DatasetSpec.of("ok-key", SOURCE, name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + name + "'");
    }

    @Test
    void reservedNamesAndAbsolutePathsSayWhy() {
        assertThatThrownBy(() -> DatasetSpec.of("CON", SOURCE, "f"))
                .hasMessageContaining("reserved device name on Windows");
        assertThatThrownBy(() -> DatasetSpec.of("k", SOURCE, "/etc/passwd")).hasMessageContaining("absolute path");
        assertThatThrownBy(() -> DatasetSpec.of("../x", SOURCE, "f")).hasMessageContaining("path separator");
    }

    @Test
    void goodNamesPass() {
        DatasetSpec spec = DatasetSpec.of("mnist-v1.2_train+test", SOURCE, "mnist.npz");
        assertThat(spec.key()).isEqualTo("mnist-v1.2_train+test");
        assertThat(DatasetSpec.of("console", SOURCE, "con1.txt").key()).isEqualTo("console");
    }

    @Test
    void anOverlongKeyIsRefused() {
        String key = "x".repeat(NameRules.MAX_LENGTH + 1);
        assertThatThrownBy(() -> DatasetSpec.of(key, SOURCE, "f")).hasMessageContaining("longer than 128");
    }

    @Test
    void aSha256ThatIsNot64HexCharactersIsRefusedByValue() {
        DatasetSpec spec = DatasetSpec.of("k", SOURCE, "f");
        for (String hex : new String[] {
            "abc", "zz" + "0".repeat(62), "0".repeat(63), "0".repeat(65), "sha256:" + "0".repeat(57), ""
        }) {
            assertThatThrownBy(() -> spec.withSha256(hex))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + hex + "'")
                    .hasMessageContaining("64 hexadecimal");
        }
    }

    @Test
    void anUpperCaseSha256IsAcceptedAsLowerCase() {
        String upper = "AB".repeat(32);
        assertThat(DatasetSpec.of("k", SOURCE, "f").withSha256(upper).sha256()).hasValue("ab".repeat(32));
    }

    @Test
    void aNegativeSizeAndOtherSchemesAreRefused() {
        assertThatThrownBy(() -> DatasetSpec.of("k", SOURCE, "f").withSize(-1)).hasMessageContaining("-1");
        assertThatThrownBy(() -> DatasetSource.url("ftp://example.org/x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ftp://example.org/x")
                .hasMessageContaining("'ftp'");
    }

    @Test
    void aFileWhereTheCacheRootShouldBeIsNamedWithWhatToDo() throws Exception {
        Path root = tmp.resolve("cache-root");
        Files.writeString(root, "I am a file");
        DatasetCache cache = TestData.cache(root)
                .register(DatasetSpec.of("k", SOURCE, "f.bin"))
                .build();
        assertThatThrownBy(() -> cache.fetch("k"))
                .isInstanceOf(CacheIOException.class)
                .hasMessageContaining(root.toString())
                .hasMessageContaining("is a file, not a directory")
                .hasMessageContaining("LOCKCACHE_HOME");
        Path below = tmp.resolve("cache-root/sub");
        assertThatThrownBy(() -> CacheDirectories.ensureWritable(below))
                .isInstanceOf(CacheIOException.class)
                .hasMessageContaining(root + " is a file");
    }

    @Test
    void anUnknownKeyAndADirectoryAsTargetAreNamed() throws Exception {
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of("known", SOURCE, "f.bin"))
                .build();
        assertThatThrownBy(() -> cache.fetch("unknown"))
                .isInstanceOf(CacheException.class)
                .hasMessageContaining("'unknown'")
                .hasMessageContaining("[known]");
        Path dir = Files.createDirectories(tmp.resolve("a-directory"));
        assertThatThrownBy(() -> cache.fetch("known", dir))
                .isInstanceOf(CacheException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("is a directory");
    }
}
