package dev.lockcache.lock.exclusive;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RenameAwayTest {

    @TempDir
    Path dir;

    @Test
    void removesTheExpectedFile() throws Exception {
        Path file = Files.writeString(dir.resolve("a.lock"), "mine");
        assertThat(RenameAway.remove(
                                file,
                                "test",
                                renamed -> Files.readString(renamed).equals("mine"))
                        .kind())
                .isEqualTo(RenameAway.Outcome.Kind.REMOVED);
        assertThat(names()).isEmpty();
    }

    @Test
    void reportsAnAbsentFile() throws Exception {
        assertThat(RenameAway.remove(dir.resolve("none.lock"), "test", renamed -> true)
                        .kind())
                .isEqualTo(RenameAway.Outcome.Kind.ABSENT);
    }

    @Test
    void putsAnUnexpectedFileBackUnchanged() throws Exception {
        Path file = Files.writeString(dir.resolve("b.lock"), "theirs");
        RenameAway.Outcome outcome = RenameAway.remove(file, "test", renamed -> false);
        assertThat(outcome.kind()).isEqualTo(RenameAway.Outcome.Kind.FOREIGN_RESTORED);
        assertThat(Files.readString(file)).isEqualTo("theirs");
        assertThat(names()).containsExactly("b.lock");
    }

    @Test
    void neverOverwritesANewcomerWhenPuttingBack() throws Exception {
        Path file = Files.writeString(dir.resolve("c.lock"), "theirs");
        RenameAway.Outcome outcome = RenameAway.remove(file, "test", renamed -> {
            Files.writeString(file, "newcomer"); // someone takes the free path while we look
            return false;
        });
        assertThat(outcome.kind()).isEqualTo(RenameAway.Outcome.Kind.FOREIGN_LOST);
        assertThat(Files.readString(file)).isEqualTo("newcomer");
        assertThat(names()).containsExactly("c.lock");
    }

    private List<String> names() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }
}
