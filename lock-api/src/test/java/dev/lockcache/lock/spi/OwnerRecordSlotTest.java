package dev.lockcache.lock.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.OwnerRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The slot's shortcuts (generation field, provider line, token bytes) agree with a full parse. */
class OwnerRecordSlotTest {

    private final Path path = Path.of("/locks/a.lock");

    @Test
    void previousGenerationAgreesWithTheRecordWhoeverWroteIt() {
        qt().forAll(
                        longs().between(0, Long.MAX_VALUE - 1),
                        strings().basicLatinAlphabet().ofLengthBetween(0, 60))
                .checkAssert((generation, label) -> {
                    OwnerRecordSlot slot = new OwnerRecordSlot("flock", Set.of(Mechanism.FLOCK));
                    byte[] ours = slot.exclusiveRecord(path, generation, label)
                            .encode()
                            .bytes();
                    assertThat(slot.previousGeneration(path, ours)).isEqualTo(generation);
                    for (String writer : new String[] {"double", "nio", "exclusive-create"}) {
                        byte[] theirs = OwnerRecord.forThisProcess(writer, LockMode.EXCLUSIVE, generation + 1, label)
                                .encode()
                                .bytes();
                        assertThat(slot.previousGeneration(path, theirs)).isEqualTo(generation + 1);
                    }
                });
    }

    @Test
    void damagedOrMissingRecordsGiveTheirGenerationLineOrZero() {
        OwnerRecordSlot slot = new OwnerRecordSlot("nio", Set.of(Mechanism.FCNTL));
        byte[] record = OwnerRecord.forThisProcess("nio", LockMode.EXCLUSIVE, 41, "x")
                .encode()
                .bytes();
        byte[] cut = Arrays.copyOf(record, record.length - 12); // loses the heartbeat and end lines
        assertThat(slot.previousGeneration(path, cut)).isEqualTo(41);
        assertThat(slot.previousGeneration(path, new byte[0])).isZero();
        assertThat(slot.previousGeneration(path, "garbage\n".getBytes(StandardCharsets.UTF_8)))
                .isZero();
    }

    @Test
    void carriesTokenMatchesOnlyTheWholeToken() {
        OwnerRecord record = OwnerRecord.forThisProcess("flock", LockMode.EXCLUSIVE, 3, "");
        byte[] bytes = record.encode().bytes();
        assertThat(OwnerRecordSlot.carriesToken(bytes, record.token())).isTrue();
        assertThat(OwnerRecordSlot.carriesToken(bytes, record.token().substring(1)))
                .isFalse();
        assertThat(OwnerRecordSlot.carriesToken(bytes, OwnerRecord.newToken())).isFalse();
        assertThat(OwnerRecordSlot.carriesToken(Arrays.copyOf(bytes, 40), record.token()))
                .isFalse();
    }
}
