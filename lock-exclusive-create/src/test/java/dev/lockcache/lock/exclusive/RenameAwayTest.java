package dev.lockcache.lock.exclusive;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RenameAwayTest {

    @TempDir
    Path dir;

    private LockDirectory directory;

    @BeforeEach
    void open() throws Exception {
        directory = LockDirectory.open(dir.resolve("any"), LockDirectory.Pause.NONE);
    }

    @AfterEach
    void close() throws Exception {
        directory.close();
    }

    @Test
    void removesTheExpectedFile() throws Exception {
        Files.writeString(dir.resolve("a.lock"), "mine");
        assertThat(RenameAway.remove(
                                directory,
                                "a.lock",
                                "test",
                                renamed ->
                                        Files.readString(dir.resolve(renamed)).equals("mine"),
                                Linking.JDK)
                        .kind())
                .isEqualTo(RenameAway.Outcome.Kind.REMOVED);
        assertThat(names()).isEmpty();
    }

    @Test
    void reportsAnAbsentFile() throws Exception {
        assertThat(RenameAway.remove(directory, "none.lock", "test", renamed -> true, Linking.JDK)
                        .kind())
                .isEqualTo(RenameAway.Outcome.Kind.ABSENT);
    }

    @Test
    void putsAnUnexpectedFileBackUnchanged() throws Exception {
        Path file = Files.writeString(dir.resolve("b.lock"), "theirs");
        RenameAway.Outcome outcome = RenameAway.remove(directory, "b.lock", "test", renamed -> false, Linking.JDK);
        assertThat(outcome.kind()).isEqualTo(RenameAway.Outcome.Kind.FOREIGN_RESTORED);
        assertThat(Files.readString(file)).isEqualTo("theirs");
        assertThat(names()).containsExactly("b.lock");
    }

    @Test
    void neverOverwritesANewcomerWhenPuttingBack() throws Exception {
        Path file = Files.writeString(dir.resolve("c.lock"), "theirs");
        RenameAway.Outcome outcome = RenameAway.remove(
                directory,
                "c.lock",
                "test",
                renamed -> {
                    Files.writeString(file, "newcomer"); // someone takes the free path while we look
                    return false;
                },
                Linking.JDK);
        assertThat(outcome.kind()).isEqualTo(RenameAway.Outcome.Kind.FOREIGN_LOST);
        assertThat(Files.readString(file)).isEqualTo("newcomer");
        assertThat(names()).containsExactly("c.lock");
    }

    @Test
    void theIdentityCheckMatchesOnlyTheSameFileNotTheSameBytes() throws Exception {
        Files.writeString(dir.resolve("d.lock"), "one");
        Object key = directory.keyInDirectory("d.lock");
        Files.move(dir.resolve("d.lock"), dir.resolve("old")); // the judged file lives on under another name
        Files.writeString(dir.resolve("d.lock"), "one"); // same bytes, another file
        RenameAway.Outcome outcome =
                RenameAway.remove(directory, "d.lock", "test", RenameAway.Check.identity(directory, key), Linking.JDK);
        assertThat(outcome.kind()).isEqualTo(RenameAway.Outcome.Kind.FOREIGN_RESTORED);
        assertThat(names()).containsExactlyInAnyOrder("d.lock", "old");
        assertThat(directory.keyInDirectory("old")).isEqualTo(key);
    }

    private List<String> names() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }
}
