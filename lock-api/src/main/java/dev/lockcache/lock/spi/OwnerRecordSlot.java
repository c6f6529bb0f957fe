package dev.lockcache.lock.spi;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner record at the start of a kernel lock file (flock, fcntl, OFD), as a holder sees it right after
 * locking: the previous record gives the fencing generation, and tells whether a peer used a mechanism on this
 * path that does not exclude ours (logged at WARN once per path). Thread-safe; one per provider.
 *
 * <p>On the hot path (this provider wrote the previous record) only the fixed-width generation field is read;
 * a full parse happens when the record came from someone else.
 */
public final class OwnerRecordSlot {
    private static final Logger LOG = LoggerFactory.getLogger(OwnerRecordSlot.class);
    private static final Pattern GENERATION = Pattern.compile("(?m)^generation=(\\d{1,19})$");
    private static final int MAX_REMEMBERED_PATHS = 10_000;
    private static final byte[] TOKEN_KEY = "\ntoken=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PROVIDER_KEY = "\nprovider=".getBytes(StandardCharsets.US_ASCII);

    /** Enough bytes for a record with ordinary host names and labels; read first, before {@link OwnerRecord#MAX_BYTES}. */
    public static final int TYPICAL_BYTES = 512;

    private final String provider;
    private final Set<Mechanism> mechanisms;
    private final Set<Path> warned = ConcurrentHashMap.newKeySet();
    private final Map<Path, Long> lastWritten = new ConcurrentHashMap<>();

    /**
     * @param provider the name written into records
     * @param mechanisms the mechanisms our locks hold, which decide through {@link Mechanism}'s table whose
     *     records come from a peer that excludes us
     */
    public OwnerRecordSlot(String provider, Set<Mechanism> mechanisms) {
        this.provider = provider;
        this.mechanisms = Set.copyOf(mechanisms);
    }

    /** Whether a record written through provider {@code writer} comes from a lock that excludes ours (locally). */
    private boolean compatible(String writer) {
        if (writer.equals(provider)) {
            return true;
        }
        Set<Mechanism> theirs = Mechanism.ofProvider(writer);
        return !theirs.isEmpty() && Mechanism.exclude(mechanisms, theirs, Mechanism.Scope.LOCAL);
    }

    /**
     * The generation of the record in {@code raw} (the file's first bytes): a well-formed record's, the
     * generation line of a damaged one, or 0 when there is none. Warns once per path when the record was
     * written by a provider whose locks do not exclude ours.
     */
    public long previousGeneration(Path path, byte[] raw) {
        long quick = OwnerRecord.generationOf(raw, raw.length);
        Long mine = lastWritten.get(path);
        if (quick >= 0 && mine != null && mine == quick) {
            return quick; // our own last record: nobody else locked this path since
        }
        if (quick >= 0) {
            String writer = lineValue(raw, PROVIDER_KEY);
            if (compatible(writer)) {
                return quick; // another process of a compatible mechanism: no parse needed
            }
        }
        LockOwner owner = OwnerRecord.parse(raw, raw.length);
        if (owner instanceof LockOwner.Known known) {
            warnIfForeign(path, known.record());
            return known.record().generation();
        }
        Matcher matcher = GENERATION.matcher(new String(raw, StandardCharsets.UTF_8));
        long found = 0;
        while (matcher.find()) {
            try {
                found = Math.max(found, Long.parseLong(matcher.group(1)));
            } catch (NumberFormatException e) {
                // longer than a long: not one of our records
            }
        }
        return found;
    }

    /** The record an exclusive holder of {@code path} writes for {@code generation}; remembered as ours. */
    public OwnerRecord exclusiveRecord(Path path, long generation, String operation) {
        if (lastWritten.size() >= MAX_REMEMBERED_PATHS) {
            lastWritten.clear();
        }
        lastWritten.put(path, generation);
        return OwnerRecord.forThisProcess(provider, LockMode.EXCLUSIVE, generation, operation);
    }

    /**
     * Whether {@code raw} is a record that carries {@code token} (the check a releasing holder makes that nobody
     * overwrote its record), decided by a byte comparison instead of a parse.
     */
    public static boolean carriesToken(byte[] raw, String token) {
        byte[] wanted = token.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + TOKEN_KEY.length + wanted.length < raw.length; i++) {
            for (int k = 0; k < TOKEN_KEY.length; k++) {
                if (raw[i + k] != TOKEN_KEY[k]) {
                    continue outer;
                }
            }
            int start = i + TOKEN_KEY.length;
            for (int k = 0; k < wanted.length; k++) {
                if (raw[start + k] != wanted[k]) {
                    return false;
                }
            }
            return raw[start + wanted.length] == '\n';
        }
        return false;
    }

    /** The value of the first line that starts with {@code key} (which begins with a newline), or "". */
    private static String lineValue(byte[] raw, byte[] key) {
        outer:
        for (int i = 0; i + key.length < raw.length; i++) {
            for (int k = 0; k < key.length; k++) {
                if (raw[i + k] != key[k]) {
                    continue outer;
                }
            }
            int start = i + key.length;
            for (int end = start; end < raw.length; end++) {
                if (raw[end] == '\n') {
                    return new String(raw, start, end - start, StandardCharsets.UTF_8);
                }
            }
            return "";
        }
        return "";
    }

    private void warnIfForeign(Path path, OwnerRecord record) {
        if (compatible(record.provider())) {
            return;
        }
        if (warned.size() >= MAX_REMEMBERED_PATHS) {
            warned.clear();
        }
        if (warned.add(path)) {
            LOG.warn(
                    "lock file {} was last locked through provider '{}' ({}), whose locks do not exclude '{}'"
                            + " locks; use one provider (or 'double') for every process that locks this path",
                    path,
                    record.provider(),
                    record.describe(),
                    provider);
        }
    }
}
