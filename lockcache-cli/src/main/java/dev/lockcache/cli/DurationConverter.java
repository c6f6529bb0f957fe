package dev.lockcache.cli;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a duration as people write it: a number and a unit, {@code 500ms}, {@code 30s}, {@code 1.5m}, {@code 1h},
 * {@code 2d}; a plain number of seconds as flock(1) takes it, {@code 5}, {@code 0}, {@code 0.5}; or an ISO-8601
 * duration such as {@code PT30S}. Negative durations are refused; fractions finer than a nanosecond are cut.
 */
final class DurationConverter implements ITypeConverter<Duration> {

    private static final Pattern SIMPLE = Pattern.compile("(\\d{1,18}(?:\\.\\d{1,9})?)\\s*(ms|s|m|h|d)?");

    private static final BigInteger BILLION = BigInteger.valueOf(1_000_000_000L);

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
            BigDecimal amount = new BigDecimal(m.group(1));
            long nanosPerUnit = switch (m.group(2) == null ? "s" : m.group(2)) {
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> 86_400_000_000_000L;
            };
            try {
                BigInteger[] seconds = amount.multiply(BigDecimal.valueOf(nanosPerUnit))
                        .toBigInteger()
                        .divideAndRemainder(BILLION);
                duration = Duration.ofSeconds(seconds[0].longValueExact(), seconds[1].longValueExact());
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
                + "' is not a duration; write seconds (5, 0.5), a number and a unit (500ms, 30s, 5m, 1h, 2d) or ISO-8601"
                + " (PT30S)");
    }
}
