package dev.lockcache.bench;

import java.util.List;
import java.util.Locale;

/** Writes figures as a Markdown table: each value, its baseline, the ratio, the target and the verdict. */
final class RatioTable {

    private RatioTable() {}

    static String markdown(List<Figure> figures) {
        StringBuilder out = new StringBuilder();
        out.append("| figure | contender | value | baseline | baseline value | ratio | target | verdict |\n");
        out.append("| --- | --- | ---: | --- | ---: | ---: | --- | --- |\n");
        for (Figure f : figures) {
            out.append("| ")
                    .append(escape(f.figure()))
                    .append(" | ")
                    .append(escape(f.contender()))
                    .append(" | ")
                    .append(format(f.value(), f.unit()))
                    .append(" | ")
                    .append(f.baseline().map(b -> escape(b.name())).orElse("—"))
                    .append(" | ")
                    .append(f.baseline().map(b -> format(b.value(), f.unit())).orElse("—"))
                    .append(" | ")
                    .append(f.ratio().map(RatioTable::ratio).orElse("—"))
                    .append(" | ")
                    .append(f.target().isEmpty() ? "—" : escape(f.target()))
                    .append(" | ")
                    .append(verdict(f.verdict()))
                    .append(" |\n");
        }
        return out.toString();
    }

    static String verdict(Figure.Verdict v) {
        return switch (v) {
            case MET -> "met";
            case MISSED -> "**missed**";
            case NO_TARGET -> "—";
        };
    }

    static String ratio(double r) {
        return String.format(Locale.ROOT, r >= 100 ? "%.0f×" : r >= 10 ? "%.1f×" : "%.2f×", r);
    }

    /** A value in its unit, three significant digits where that makes sense. */
    static String format(double value, Figure.Unit unit) {
        return switch (unit) {
            case NANOS -> nanos(value);
            case PER_SECOND -> significant(value) + " /s";
            case CPU_MILLIS_PER_SECOND -> significant(value) + " ms/s";
            case COUNT -> String.format(Locale.ROOT, "%+d", Math.round(value));
            case BYTES -> String.format(Locale.ROOT, "%+.1f KiB", value / 1024);
            case FRACTION -> String.format(Locale.ROOT, "%.1f%%", value * 100);
        };
    }

    static String nanos(double ns) {
        if (Math.abs(ns) < 1_000) {
            return String.format(Locale.ROOT, "%.0f ns", ns);
        }
        if (Math.abs(ns) < 1_000_000) {
            return significant(ns / 1_000) + " µs";
        }
        if (Math.abs(ns) < 1_000_000_000) {
            return significant(ns / 1_000_000) + " ms";
        }
        return significant(ns / 1_000_000_000) + " s";
    }

    private static String significant(double v) {
        double a = Math.abs(v);
        String pattern = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f";
        return String.format(Locale.ROOT, pattern, v);
    }

    private static String escape(String cell) {
        return cell.replace("|", "\\|").replace("\n", " ");
    }
}
