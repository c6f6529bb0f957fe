package dev.lockcache.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.bench.Figure.Unit;
import dev.lockcache.bench.Figure.Verdict;
import java.util.List;
import org.junit.jupiter.api.Test;

class RatioTableTest {

    @Test
    void rowShowsValueBaselineRatioTargetAndVerdict() {
        Figure f =
                Figure.compared("uncontended", "flock", 2_400, Unit.NANOS, "jnr-flock", 1_500, "≤ 1.6×", Verdict.MET);
        String table = RatioTable.markdown(List.of(f));
        String[] lines = table.split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0])
                .isEqualTo("| figure | contender | value | baseline | baseline value | ratio | target | verdict |");
        assertThat(lines[2])
                .isEqualTo("| uncontended | flock | 2.40 µs | jnr-flock | 1.50 µs | 1.60× | ≤ 1.6× | met |");
    }

    @Test
    void absoluteFiguresHaveNoRatioAndMissesStandOut() {
        Figure f =
                Figure.absolute("CPU", "exclusive-create", 72, Unit.CPU_MILLIS_PER_SECOND, "≤ 10 ms/s", Verdict.MISSED);
        assertThat(RatioTable.markdown(List.of(f)).split("\n")[2])
                .isEqualTo("| CPU | exclusive-create | 72.0 ms/s | — | — | — | ≤ 10 ms/s | **missed** |");
    }

    @Test
    void unitsAndMagnitudes() {
        assertThat(RatioTable.format(850, Unit.NANOS)).isEqualTo("850 ns");
        assertThat(RatioTable.format(45_300, Unit.NANOS)).isEqualTo("45.3 µs");
        assertThat(RatioTable.format(2_900_000, Unit.NANOS)).isEqualTo("2.90 ms");
        assertThat(RatioTable.format(98_200_000, Unit.NANOS)).isEqualTo("98.2 ms");
        assertThat(RatioTable.format(0.25, Unit.FRACTION)).isEqualTo("25.0%");
        assertThat(RatioTable.format(-3, Unit.COUNT)).isEqualTo("-3");
        assertThat(RatioTable.format(0, Unit.COUNT)).isEqualTo("+0");
        assertThat(RatioTable.format(2048, Unit.BYTES)).isEqualTo("+2.0 KiB");
        assertThat(RatioTable.format(5.3, Unit.PER_SECOND)).isEqualTo("5.30 /s");
        assertThat(RatioTable.ratio(0.4712)).isEqualTo("0.47×");
        assertThat(RatioTable.ratio(895.4)).isEqualTo("895×");
    }

    @Test
    void zeroBaselineGivesNoRatioAndPipesAreEscaped() {
        Figure f = Figure.compared("a|b", "x", 1, Unit.COUNT, "base", 0, "", Verdict.NO_TARGET);
        assertThat(f.ratio()).isEmpty();
        assertThat(RatioTable.markdown(List.of(f)).split("\n")[2])
                .startsWith("| a\\|b | x | +1 | base | +0 | — | — | — |");
    }
}
