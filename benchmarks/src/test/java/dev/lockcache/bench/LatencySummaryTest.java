package dev.lockcache.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LatencySummaryTest {

    @Test
    void nearestRankOnOneToHundred() {
        long[] samples = new long[100];
        for (int i = 0; i < 100; i++) {
            samples[99 - i] = i + 1; // descending: the summary must sort a copy
        }
        LatencySummary s = LatencySummary.of(samples);
        assertThat(s.count()).isEqualTo(100);
        assertThat(s.p50Nanos()).isEqualTo(50);
        assertThat(s.p99Nanos()).isEqualTo(99);
        assertThat(s.maxNanos()).isEqualTo(100);
        assertThat(samples[0]).as("input untouched").isEqualTo(100);
    }

    @Test
    void smallSetsRoundTheRankUp() {
        assertThat(LatencySummary.of(new long[] {7}).p50Nanos()).isEqualTo(7);
        assertThat(LatencySummary.of(new long[] {1, 2}).p50Nanos()).isEqualTo(1);
        assertThat(LatencySummary.of(new long[] {1, 2, 3}).p50Nanos()).isEqualTo(2);
        assertThat(LatencySummary.of(new long[] {1, 2, 3}).p99Nanos()).isEqualTo(3);
    }

    @Test
    void rejectsNoSamplesAndOutOfRangePercentiles() {
        assertThatThrownBy(() -> LatencySummary.of(new long[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LatencySummary.percentile(new long[] {1}, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LatencySummary.percentile(new long[] {1}, 100.5))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void percentileIsASampleWithTheNearestRankProperty() {
        qt().forAll(
                        lists().of(longs().between(0, 1_000_000_000L)).ofSizeBetween(1, 300),
                        integers().between(1, 100))
                .checkAssert((list, percent) -> {
                    long[] sorted =
                            list.stream().mapToLong(Long::longValue).sorted().toArray();
                    long p = LatencySummary.percentile(sorted, percent);
                    long atOrBelow = Arrays.stream(sorted).filter(v -> v <= p).count();
                    long below = Arrays.stream(sorted).filter(v -> v < p).count();
                    assertThat(sorted).contains(p);
                    // at least percent% of the samples are <= p, and fewer than percent% are < p
                    assertThat(atOrBelow * 100).isGreaterThanOrEqualTo((long) percent * sorted.length);
                    assertThat(below * 100).isLessThan((long) percent * sorted.length);
                });
    }
}
