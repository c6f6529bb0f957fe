package dev.lockcache.lock;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Who holds a lock: written by every holder, readable without taking the lock.
 *
 * <p>The text form is a header line and {@code key=value} lines ending with {@code end}, at most {@link
 * #MAX_BYTES} bytes. The generation and heartbeat are written with a fixed width, so a holder can bump the
 * heartbeat with one positioned write at {@link Encoded#heartbeatOffset()} without rewriting the record.
 * Parsing is lenient in one direction only: anything that is not a complete, well-formed record is reported
 * as {@link LockOwner.Unreadable}, never thrown.
 *
 * @param pid the holder's process id
 * @param host the holder's host name
 * @param processStartMillis the holder process's start time in epoch milliseconds, or {@code -1} if unknown;
 *     with the pid it tells a live holder from a recycled pid
 * @param token random, unique to one acquisition: release and stale-breaking compare it
 * @param provider the name of the provider that wrote the record
 * @param mode the mode the lock is held in
 * @param acquiredAt wall-clock time of the acquisition, for people only (never used to judge staleness)
 * @param generation the fencing token: grows with every exclusive acquisition of the lock
 * @param heartbeat bumped by a live holder on a schedule where the mechanism needs a lease
 * @param operation what the holder said it was doing; may be empty
 */
public record OwnerRecord(
        long pid,
        String host,
        long processStartMillis,
        String token,
        String provider,
        LockMode mode,
        Instant acquiredAt,
        long generation,
        long heartbeat,
        String operation) {

    /** The largest record read or written, in bytes. */
    public static final int MAX_BYTES = 4096;

    static final String HEADER = "lockcache-owner 1";
    static final String END = "end";
    private static final int NUMBER_WIDTH = 19;
    private static final int TEXT_LIMIT = 255;

    private static final long PID = ProcessHandle.current().pid();
    private static final long START_MILLIS = ProcessHandle.current()
            .info()
            .startInstant()
            .map(Instant::toEpochMilli)
            .orElse(-1L);
    private static final String HOST = localHostName();

    public OwnerRecord {
        host = clean(host, "host");
        token = clean(token, "token");
        provider = clean(provider, "provider");
        operation = operation == null ? "" : limit(replaceControls(operation, ' '));
        if (token.isEmpty() || provider.isEmpty() || host.isEmpty()) {
            throw new IllegalArgumentException("owner record needs a token, a provider and a host");
        }
        if (mode == null || acquiredAt == null) {
            throw new IllegalArgumentException("owner record needs a mode and an acquisition time");
        }
        if (generation < 0 || heartbeat < 0) {
            throw new IllegalArgumentException("generation and heartbeat must not be negative");
        }
    }

    /** A record for this process, with a fresh random token, acquired now. */
    public static OwnerRecord forThisProcess(String provider, LockMode mode, long generation, String operation) {
        return new OwnerRecord(
                PID, HOST, START_MILLIS, newToken(), provider, mode, Instant.now(), generation, 0, operation);
    }

    /** A fresh 128-bit random token in hex. */
    public static String newToken() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextLong());
    }

    /** This process's id, as records write it. */
    public static long currentPid() {
        return PID;
    }

    /** This host's name, as records write it. */
    public static String currentHost() {
        return HOST;
    }

    /** This process's start time in epoch milliseconds, or -1 if the platform does not tell. */
    public static long currentProcessStartMillis() {
        return START_MILLIS;
    }

    /** Whether this record was written by a process on this host. */
    public boolean isThisHost() {
        return HOST.equals(host);
    }

    /** Whether this record was written by this very process. */
    public boolean isThisProcess() {
        return isThisHost() && pid == PID && (processStartMillis == START_MILLIS);
    }

    /** The holder's start time, if known. */
    public Optional<Instant> processStart() {
        return processStartMillis < 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(processStartMillis));
    }

    /** The same record with another heartbeat. */
    public OwnerRecord withHeartbeat(long newHeartbeat) {
        return new OwnerRecord(
                pid, host, processStartMillis, token, provider, mode, acquiredAt, generation, newHeartbeat, operation);
    }

    /** The same record with another generation. */
    public OwnerRecord withGeneration(long newGeneration) {
        return new OwnerRecord(
                pid, host, processStartMillis, token, provider, mode, acquiredAt, newGeneration, heartbeat, operation);
    }

    /** One line for messages: who, where, since when, doing what. */
    public String describe() {
        return "pid " + pid + " on " + host + " (" + provider + ", "
                + mode.name().toLowerCase() + ", since " + acquiredAt + (operation.isEmpty() ? "" : ", " + operation)
                + ")";
    }

    /** The text form with the offset of the fixed-width heartbeat digits. */
    public record Encoded(byte[] bytes, int heartbeatOffset) {
        /** The heartbeat digits for an in-place rewrite at {@link #heartbeatOffset()}. */
        public static byte[] heartbeatDigits(long heartbeat) {
            return pad(heartbeat).getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** Encodes this record; the result is at most {@link #MAX_BYTES} long. */
    public Encoded encode() {
        StringBuilder text = new StringBuilder(256)
                .append(HEADER)
                .append('\n')
                .append("pid=")
                .append(pid)
                .append('\n')
                .append("host=")
                .append(host)
                .append('\n')
                .append("start=")
                .append(processStartMillis)
                .append('\n')
                .append("token=")
                .append(token)
                .append('\n')
                .append("provider=")
                .append(provider)
                .append('\n')
                .append("mode=")
                .append(mode.name())
                .append('\n')
                .append("acquired=")
                .append(acquiredAt)
                .append('\n')
                .append("operation=")
                .append(operation)
                .append('\n')
                .append("generation=")
                .append(pad(generation))
                .append('\n')
                .append("heartbeat=");
        text.append(pad(heartbeat)).append('\n').append(END).append('\n');
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        // the heartbeat digits are the last field: NUMBER_WIDTH digits, "\n", "end\n"
        return new Encoded(bytes, bytes.length - NUMBER_WIDTH - 1 - END.length() - 1);
    }

    /**
     * Reads a record from raw bytes, never throwing: empty, truncated, oversized or malformed content is
     * {@link LockOwner.Unreadable}; content after the {@code end} line is ignored (records are rewritten in
     * place and may be shorter than what was there before).
     */
    public static LockOwner parse(byte[] bytes, int length) {
        if (length <= 0) {
            return new LockOwner.Unreadable("empty (the holder may have just created it, or the disk is full)");
        }
        if (length > MAX_BYTES) {
            return new LockOwner.Unreadable("larger than " + MAX_BYTES + " bytes: not an owner record");
        }
        String text = new String(bytes, 0, Math.min(length, bytes.length), StandardCharsets.UTF_8);
        int lineEnd = text.indexOf('\n');
        if (lineEnd < 0 || !text.startsWith(HEADER) || lineEnd != HEADER.length()) {
            return new LockOwner.Unreadable("does not start with '" + HEADER + "'");
        }
        Map<String, String> fields = new HashMap<>();
        boolean ended = false;
        int lineNumber = 1;
        for (int start = lineEnd + 1; start < text.length(); start = lineEnd + 1) {
            lineNumber++;
            lineEnd = text.indexOf('\n', start);
            if (lineEnd < 0) {
                break; // the last line has no newline: cut short
            }
            String line = text.substring(start, lineEnd);
            if (line.equals(END)) {
                ended = true;
                break;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                return new LockOwner.Unreadable("malformed line " + lineNumber);
            }
            fields.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
        }
        if (!ended) {
            return new LockOwner.Unreadable("truncated (no '" + END + "' line)");
        }
        try {
            return new LockOwner.Known(new OwnerRecord(
                    Long.parseLong(required(fields, "pid")),
                    required(fields, "host"),
                    Long.parseLong(required(fields, "start")),
                    required(fields, "token"),
                    required(fields, "provider"),
                    LockMode.valueOf(required(fields, "mode")),
                    Instant.parse(required(fields, "acquired")),
                    Long.parseLong(required(fields, "generation")),
                    Long.parseLong(required(fields, "heartbeat")),
                    fields.getOrDefault("operation", "")));
        } catch (IllegalArgumentException | DateTimeException e) {
            return new LockOwner.Unreadable("bad field: " + e.getMessage());
        }
    }

    /**
     * The generation written in a record, read without parsing the rest: for providers that only need the
     * previous fencing token on the acquisition path. Returns -1 when the bytes hold no well-formed
     * generation field (an empty, cut or foreign file).
     */
    public static long generationOf(byte[] bytes, int length) {
        int end = Math.min(length, bytes.length);
        byte[] key = GENERATION_KEY;
        outer:
        for (int i = 0; i + key.length + NUMBER_WIDTH <= end; i++) {
            for (int k = 0; k < key.length; k++) {
                if (bytes[i + k] != key[k]) {
                    continue outer;
                }
            }
            long value = 0;
            for (int d = i + key.length; d < i + key.length + NUMBER_WIDTH; d++) {
                int digit = bytes[d] - '0';
                if (digit < 0 || digit > 9) {
                    return -1;
                }
                value = value * 10 + digit;
            }
            return value;
        }
        return -1;
    }

    private static final byte[] GENERATION_KEY = "\ngeneration=".getBytes(StandardCharsets.US_ASCII);

    /** Reads a record from a whole byte array. */
    public static LockOwner parse(byte[] bytes) {
        return parse(bytes, bytes.length);
    }

    private static String required(Map<String, String> fields, String key) {
        String value = fields.get(key);
        if (value == null) {
            throw new IllegalArgumentException("missing '" + key + "'");
        }
        return value;
    }

    private static String pad(long value) {
        String digits = Long.toString(value);
        return "0".repeat(Math.max(0, NUMBER_WIDTH - digits.length())) + digits;
    }

    private static String clean(String value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        return limit(replaceControls(value, '_').replace('=', '_'));
    }

    /** Cut to {@link #TEXT_LIMIT}, stripped, and made encodable (lone surrogates become '?'). */
    private static String limit(String text) {
        String cut = text.length() <= TEXT_LIMIT ? text : text.substring(0, TEXT_LIMIT);
        for (int i = 0; i < cut.length(); i++) {
            if (Character.isSurrogate(cut.charAt(i))) {
                cut = new String(cut.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
                break;
            }
        }
        return cut.strip();
    }

    /** ASCII control characters (the ones that could break the line format) replaced; no regex on the hot path. */
    static String replaceControls(String text, char replacement) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                char[] chars = text.toCharArray();
                for (int j = i; j < chars.length; j++) {
                    if (chars[j] < 0x20 || chars[j] == 0x7f) {
                        chars[j] = replacement;
                    }
                }
                return new String(chars);
            }
        }
        return text;
    }

    private static String localHostName() {
        String fromEnv = System.getenv("HOSTNAME");
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return fromEnv == null || fromEnv.isBlank() ? "unknown-host" : fromEnv;
        }
    }
}
