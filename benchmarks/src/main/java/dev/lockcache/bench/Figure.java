package dev.lockcache.bench;

import java.util.Optional;

/**
 * One measured figure of one contender, beside the baseline measured in the same run.
 *
 * @param figure what was measured ("uncontended acquire+release", "hand-off p50"...)
 * @param contender who was measured
 * @param value the measurement, in {@code unit}
 * @param unit one of {@link Unit}
 * @param baseline the baseline's name and value, when the figure has one
 * @param target the target in words, empty when there is none
 * @param verdict whether the target was met
 */
record Figure(
        String figure,
        String contender,
        double value,
        Unit unit,
        Optional<Baseline> baseline,
        String target,
        Verdict verdict) {

    /** How a value is written. */
    enum Unit {
        /** a duration in nanoseconds, written in ns, µs or ms */
        NANOS,
        /** a rate per second */
        PER_SECOND,
        /** milliseconds of CPU per second of wall time */
        CPU_MILLIS_PER_SECOND,
        /** a plain count (descriptors) */
        COUNT,
        /** bytes, written in KiB */
        BYTES,
        /** a fraction 0..1, written as a percentage */
        FRACTION
    }

    /** Met, missed, or nothing to meet. */
    enum Verdict {
        MET,
        MISSED,
        NO_TARGET;

        static Verdict of(boolean met) {
            return met ? MET : MISSED;
        }
    }

    /** A baseline's name and its value in the figure's unit. */
    record Baseline(String name, double value) {}

    Figure {
        if (figure == null
                || contender == null
                || unit == null
                || baseline == null
                || target == null
                || verdict == null) {
            throw new IllegalArgumentException("figure fields must not be null");
        }
    }

    /** A figure with a baseline. */
    static Figure compared(
            String figure,
            String contender,
            double value,
            Unit unit,
            String baseline,
            double baselineValue,
            String target,
            Verdict verdict) {
        return new Figure(
                figure, contender, value, unit, Optional.of(new Baseline(baseline, baselineValue)), target, verdict);
    }

    /** A figure against an absolute target (or none). */
    static Figure absolute(String figure, String contender, double value, Unit unit, String target, Verdict verdict) {
        return new Figure(figure, contender, value, unit, Optional.empty(), target, verdict);
    }

    /** value / baseline value, when there is a baseline with a non-zero value. */
    Optional<Double> ratio() {
        return baseline.filter(b -> b.value() != 0).map(b -> value / b.value());
    }
}
