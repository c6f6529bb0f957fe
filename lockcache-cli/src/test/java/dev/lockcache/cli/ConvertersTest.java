package dev.lockcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class ConvertersTest {

    @Test
    void durationsAsPeopleWriteThem() {
        assertThat(DurationConverter.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(DurationConverter.parse("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(DurationConverter.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(DurationConverter.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(DurationConverter.parse("2d")).isEqualTo(Duration.ofDays(2));
        assertThat(DurationConverter.parse("0s")).isZero();
        assertThat(DurationConverter.parse("PT30S")).isEqualTo(Duration.ofSeconds(30));
        assertThat(DurationConverter.parse("pt1m30s")).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void plainNumbersAreSecondsAsFlockTakesThem() {
        assertThat(DurationConverter.parse("5")).isEqualTo(Duration.ofSeconds(5));
        assertThat(DurationConverter.parse("0")).isZero();
        assertThat(DurationConverter.parse("0.5")).isEqualTo(Duration.ofMillis(500));
        assertThat(DurationConverter.parse("0.000000001")).isEqualTo(Duration.ofNanos(1));
        assertThat(DurationConverter.parse("1.5m")).isEqualTo(Duration.ofSeconds(90));
        assertThat(DurationConverter.parse("2.5ms")).isEqualTo(Duration.ofNanos(2_500_000));
    }

    @Test
    void malformedDurationsAreRefusedWithTheAcceptedForms() {
        for (String bad : new String[] {
            "",
            "5x",
            "-5s",
            "-5",
            ".5",
            "5.",
            "1.0000000001s",
            "s",
            "5 minutes",
            "PT",
            "PT-5S",
            "99999999999999999999h",
            "999999999999999999d"
        }) {
            assertThatThrownBy(() -> DurationConverter.parse(bad))
                    .as(bad)
                    .isInstanceOf(TypeConversionException.class)
                    .hasMessageContaining("'" + bad + "'");
        }
        assertThatThrownBy(() -> DurationConverter.parse("5x")).hasMessageContaining("500ms, 30s, 5m, 1h");
    }

    @Test
    void everyDurationReadsBackFromItsFormattedForm() {
        qt().forAll(longs().between(0, 10L * 365 * 86_400_000L), integers().between(0, 999_999))
                .check((millis, nanos) -> {
                    Duration d = Duration.ofMillis(millis);
                    Duration withNanos = d.plusNanos(nanos % 1000 == 0 ? 0 : nanos);
                    return DurationConverter.parse(DurationConverter.format(d)).equals(d)
                            && DurationConverter.parse(DurationConverter.format(withNanos))
                                    .equals(withNanos);
                });
    }

    @Test
    void sizesInBinaryAndDecimalUnits() {
        assertThat(ByteSizeConverter.parse("64MiB")).isEqualTo(64L << 20);
        assertThat(ByteSizeConverter.parse("1GiB")).isEqualTo(1L << 30);
        assertThat(ByteSizeConverter.parse("512KiB")).isEqualTo(512L << 10);
        assertThat(ByteSizeConverter.parse("10MB")).isEqualTo(10_000_000L);
        assertThat(ByteSizeConverter.parse("4096")).isEqualTo(4096L);
        assertThat(ByteSizeConverter.parse("7B")).isEqualTo(7L);
        assertThat(ByteSizeConverter.parse("7EiB".replace("E", "T"))).isEqualTo(7L << 40);
    }

    @Test
    void malformedOrOversizedSizesAreRefused() {
        for (String bad :
                new String[] {"", "MiB", "1.5GiB", "-1", "12XB", "64mib", "8388608TiB", "99999999999999999999"}) {
            assertThatThrownBy(() -> ByteSizeConverter.parse(bad)).as(bad).isInstanceOf(TypeConversionException.class);
        }
    }

    @Test
    void everySizeTimesAUnitReadsBackExactlyOrIsRefused() {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "kB", "MB", "GB", "TB"};
        long[] factors = {1, 1L << 10, 1L << 20, 1L << 30, 1L << 40, 1_000, 1_000_000, 1_000_000_000, 1_000_000_000_000L
        };
        qt().forAll(longs().between(0, Long.MAX_VALUE / 1024), integers().between(0, units.length - 1))
                .check((n, u) -> {
                    String text = n + units[u];
                    long expected;
                    try {
                        expected = Math.multiplyExact(n, factors[u]);
                    } catch (ArithmeticException overflow) {
                        try {
                            ByteSizeConverter.parse(text);
                            return false;
                        } catch (TypeConversionException refused) {
                            return true;
                        }
                    }
                    return ByteSizeConverter.parse(text) == expected;
                });
    }
}
