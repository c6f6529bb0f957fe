package dev.lockcache.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a duration as people write it: a whole number and a unit, {@code 500ms}, {@code 30s}, {@code 5m},
 * {@code 1h}, {@code 2d}, or an ISO-8601 duration such as {@code PT30S}. Negative durations are refused.
 */
final class DurationConverter implements ITypeConverter<Duration> {

    private static final Pattern SIMPLE = Pattern.compile("(\\d{1,18})\\s*(ms|s|m|h|d)");

    @Override
    public Duration convert(String text) {
        return parse(text);
    }

    static Duration parse(String text) {
        String value = text == null ? "" : text.strip();
        Duration duration;
        if (value.regionMatches(true, 0, "P", 0, 1)) {
            try {
                duration = Duration.parse(value.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw invalid(text);
            }
        } else {
            Matcher m = SIMPLE.matcher(value);
            if (!m.matches()) {
                throw invalid(text);
            }
            long amount = Long.parseLong(m.group(1));
            try {
                duration = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                };
            } catch (ArithmeticException e) {
                throw invalid(text);
            }
        }
        if (duration.isNegative()) {
            throw new TypeConversionException("'" + text + "' is negative; give a duration of zero or more");
        }
        return duration;
    }

    /** The shortest of this converter's forms that reads back as {@code duration}. */
    static String format(Duration duration) {
        long millis = duration.toMillis();
        if (!duration.equals(Duration.ofMillis(millis))) {
            return duration.toString();
        }
        if (millis % 86_400_000L == 0 && millis != 0) {
            return millis / 86_400_000L + "d";
        }
        if (millis % 3_600_000L == 0 && millis != 0) {
            return millis / 3_600_000L + "h";
        }
        if (millis % 60_000L == 0 && millis != 0) {
            return millis / 60_000L + "m";
        }
        if (millis % 1000L == 0) {
            return millis / 1000L + "s";
        }
        return millis + "ms";
    }

    private static TypeConversionException invalid(String text) {
        return new TypeConversionException("'" + text
                + "' is not a duration; write a whole number and a unit (500ms, 30s, 5m, 1h, 2d) or ISO-8601 (PT30S)");
    }
}
