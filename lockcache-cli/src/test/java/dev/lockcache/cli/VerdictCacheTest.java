package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The strategy's verdict is remembered per mount between runs, and only from a file that is safely ours. */
class VerdictCacheTest {

    @TempDir
    Path dir;

    @Test
    void aSecondRunUsesTheRememberedVerdictAndAForeignFileIsIgnored() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/mountinfo")), "no /proc/self/mountinfo to key verdicts on");
        Path state = dir.resolve("state");
        Map<String, String> env = Map.of(VerdictCache.DIR_ENV, state.toString());
        Path lock = dir.resolve("v.lock");

        Cli.Result first = Cli.run(dir, env, "run", "--verbose", lock.toString(), "true");
        assertThat(first.exit()).as(first.toString()).isZero();
        assertThat(first.stderr()).contains("locking " + lock).doesNotContain("remembered");
        Path file = state.resolve("strategy-verdicts");
        assertThat(Files.readString(file)).containsPattern("^(flock|ofd|nio|double|exclusive-create)\t");
        assertThat(Files.getPosixFilePermissions(state))
                .as("the state directory is ours alone")
                .hasSize(3);

        Cli.Result second = Cli.run(dir, env, "run", "--verbose", lock.toString(), "true");
        assertThat(second.exit()).as(second.toString()).isZero();
        assertThat(second.stderr()).contains("the strategy's verdict for this mount, remembered");

        // a verdict file replaced by a link (to a file saying "nio") is not believed
        String text = Files.readString(file).replaceFirst("^\\S+", "nio");
        Path elsewhere = dir.resolve("planted");
        Files.writeString(elsewhere, text);
        Files.delete(file);
        Files.createSymbolicLink(file, elsewhere);
        Cli.Result planted = Cli.run(dir, env, "run", "--verbose", lock.toString(), "true");
        assertThat(planted.exit()).as(planted.toString()).isZero();
        assertThat(planted.stderr()).doesNotContain("remembered").doesNotContain("with nio");
        assertThat(Files.isSymbolicLink(file))
                .as("the link was replaced, its target untouched")
                .isFalse();
        assertThat(Files.readString(elsewhere)).isEqualTo(text);
    }
}
