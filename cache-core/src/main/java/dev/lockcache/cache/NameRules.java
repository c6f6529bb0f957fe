package dev.lockcache.cache;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks dataset keys and file names before they become path segments: one segment, portable characters, no
 * traversal, no absolute paths, none of the names Windows reserves.
 */
final class NameRules {

    static final int MAX_LENGTH = 128;

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Set<String> WINDOWS_RESERVED = Set.of(
            "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1",
            "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9");

    private NameRules() {}

    /** Returns {@code value} if it is a safe single path segment, else throws naming it and {@code what}. */
    static String segment(String value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        String problem = problem(value);
        if (problem != null) {
            throw new IllegalArgumentException(what + " '" + value + "' is not allowed: " + problem + "; use 1-"
                    + MAX_LENGTH + " letters, digits, '.', '_', '+' or '-', starting with a letter or digit");
        }
        return value;
    }

    /** Returns the lower-case form of a SHA-256 hex digest, or throws naming it. */
    static String sha256(String value) {
        if (value == null) {
            throw new IllegalArgumentException("expected sha256 must not be null");
        }
        String lower = value.strip().toLowerCase(Locale.ROOT);
        if (!SHA256.matcher(lower).matches()) {
            throw new IllegalArgumentException(
                    "expected sha256 '" + value + "' is not 64 hexadecimal characters (it has " + value.length()
                            + " characters); give the full SHA-256 digest in hex");
        }
        return lower;
    }

    private static String problem(String value) {
        if (value.isEmpty()) {
            return "it is empty";
        }
        if (value.length() > MAX_LENGTH) {
            return "it is longer than " + MAX_LENGTH + " characters";
        }
        if (value.startsWith("/") || value.startsWith("\\") || value.matches("^[A-Za-z]:.*")) {
            return "it is an absolute path";
        }
        if (value.contains("/") || value.contains("\\")) {
            return "it contains a path separator";
        }
        if (value.equals("..") || value.equals(".")) {
            return "it names a directory link (path traversal)";
        }
        if (!SEGMENT.matcher(value).matches()) {
            return "it contains characters other than letters, digits, '.', '_', '+' and '-', or starts with one of '._+-'";
        }
        if (value.endsWith(".")) {
            return "it ends with '.', which Windows drops";
        }
        String stem = value.contains(".") ? value.substring(0, value.indexOf('.')) : value;
        if (WINDOWS_RESERVED.contains(stem.toUpperCase(Locale.ROOT))) {
            return "'" + stem + "' is a reserved device name on Windows";
        }
        return null;
    }
}
