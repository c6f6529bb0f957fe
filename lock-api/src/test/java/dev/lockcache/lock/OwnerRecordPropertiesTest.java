package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.arbitrary;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/** The owner-record parser never throws at a waiter, and every valid record survives a round trip. */
class OwnerRecordPropertiesTest {

    private static final Gen<String> TEXT =
            strings().basicMultilingualPlaneAlphabet().ofLengthBetween(0, 300);
    private static final Gen<String> NAME = strings().allPossible().ofLengthBetween(1, 40);

    private static final Gen<OwnerRecord> RECORDS = longs().between(1, Long.MAX_VALUE)
            .zip(NAME, longs().between(-1, Long.MAX_VALUE / 2), (pid, host, start) -> new Object[] {pid, host, start})
            .zip(arbitrary().enumValues(LockMode.class), longs().between(0, Long.MAX_VALUE), (a, mode, generation) ->
                    new Object[] {a[0], a[1], a[2], mode, generation})
            .zip(
                    longs().between(0, Long.MAX_VALUE),
                    TEXT,
                    longs().between(0, 253402300799L),
                    (a, heartbeat, operation, epochSecond) -> new OwnerRecord(
                            (Long) a[0],
                            hostOrDefault((String) a[1]),
                            (Long) a[2],
                            OwnerRecord.newToken(),
                            "prop-provider",
                            (LockMode) a[3],
                            Instant.ofEpochSecond(epochSecond),
                            (Long) a[4],
                            heartbeat,
                            operation));

    @Test
    void validRecordsRoundTrip() {
        qt().forAll(RECORDS).checkAssert(record -> {
            byte[] bytes = record.encode().bytes();
            assertThat(bytes.length).isLessThanOrEqualTo(OwnerRecord.MAX_BYTES);
            assertThat(OwnerRecord.parse(bytes)).isEqualTo(new LockOwner.Known(record));
        });
    }

    @Test
    void theHeartbeatCanBeRewrittenInPlace() {
        qt().forAll(RECORDS, longs().between(0, Long.MAX_VALUE)).checkAssert((record, beat) -> {
            OwnerRecord.Encoded encoded = record.encode();
            byte[] bytes = encoded.bytes().clone();
            byte[] digits = OwnerRecord.Encoded.heartbeatDigits(beat);
            System.arraycopy(digits, 0, bytes, encoded.heartbeatOffset(), digits.length);
            assertThat(OwnerRecord.parse(bytes)).isEqualTo(new LockOwner.Known(record.withHeartbeat(beat)));
        });
    }

    @Test
    void theGenerationIsReadWithoutParsing() {
        qt().forAll(RECORDS).checkAssert(record -> {
            byte[] bytes = record.encode().bytes();
            assertThat(OwnerRecord.generationOf(bytes, bytes.length)).isEqualTo(record.generation());
            assertThat(OwnerRecord.generationOf(bytes, bytes.length / 2)).isIn(-1L, record.generation());
        });
        assertThat(OwnerRecord.generationOf(new byte[0], 0)).isEqualTo(-1);
    }

    @Test
    void arbitraryBytesNeverThrow() {
        qt().forAll(lists().of(integers().between(-128, 127)).ofSizeBetween(0, 1200))
                .checkAssert(values -> {
                    byte[] bytes = new byte[values.size()];
                    for (int i = 0; i < bytes.length; i++) {
                        bytes[i] = values.get(i).byteValue();
                    }
                    assertThat(OwnerRecord.parse(bytes)).isNotNull();
                    assertThat(OwnerRecord.generationOf(bytes, bytes.length)).isGreaterThanOrEqualTo(-1);
                });
    }

    @Test
    void truncatedOrCorruptedRecordsAreUnreadableNeverThrown() {
        qt().forAll(RECORDS, integers().between(0, 100_000), integers().between(0, 255))
                .checkAssert((record, cut, noise) -> {
                    byte[] bytes = record.encode().bytes();
                    int length = cut % (bytes.length + 1);
                    byte[] truncated = Arrays.copyOf(bytes, length);
                    LockOwner owner = OwnerRecord.parse(truncated);
                    if (length < bytes.length - 1) { // all but the final newline is needed
                        assertThat(owner).isInstanceOf(LockOwner.Unreadable.class);
                    }
                    byte[] corrupted = bytes.clone();
                    corrupted[cut % corrupted.length] = (byte) (int) noise;
                    assertThat(OwnerRecord.parse(corrupted)).isNotNull();
                });
    }

    @Test
    void oversizedAndEmptyContentIsUnreadable() {
        assertThat(OwnerRecord.parse(new byte[0])).isInstanceOf(LockOwner.Unreadable.class);
        byte[] huge = new byte[OwnerRecord.MAX_BYTES + 1];
        Arrays.fill(huge, (byte) 'a');
        assertThat(OwnerRecord.parse(huge)).isInstanceOf(LockOwner.Unreadable.class);
        assertThat(OwnerRecord.parse("lockcache-owner 1\npid=12\n".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(
                        LockOwner.Unreadable.class, u -> assertThat(u.reason()).contains("truncated"));
        assertThat(List.of(OwnerRecord.parse("garbage".getBytes(StandardCharsets.UTF_8))))
                .allMatch(LockOwner.Unreadable.class::isInstance);
    }

    private static String hostOrDefault(String host) {
        String cleaned = host.replaceAll("[\\p{Cntrl}=]", "_").strip();
        return cleaned.isEmpty() ? "h" : host;
    }
}
