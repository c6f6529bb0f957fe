package dev.lockcache.lock.flock;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner record at the start of a kernel lock file, as a holder sees it right after locking: the previous
 * record gives the fencing generation and tells whether a peer used another mechanism on this path.
 */
final class OwnerRecordSlot {
    private static final Logger LOG = LoggerFactory.getLogger(OwnerRecordSlot.class);
    private static final Pattern GENERATION = Pattern.compile("(?m)^generation=(\\d{1,19})$");
    private static final int MAX_WARNED_PATHS = 10_000;

    private final String provider;
    private final Set<String> compatible;
    private final Set<Path> warned = ConcurrentHashMap.newKeySet();

    /**
     * @param provider the name written into records
     * @param compatible provider names whose locks exclude ours on the same path (including our own)
     */
    OwnerRecordSlot(String provider, Set<String> compatible) {
        this.provider = provider;
        this.compatible = Set.copyOf(compatible);
    }

    /**
     * Reads the generation of the record in {@code raw} (the file's first bytes): a well-formed record's, or
     * the generation line of a damaged one, or 0 when there is none. Warns once per path when the record was
     * written by a provider whose locks do not exclude ours.
     */
    long previousGeneration(Path path, byte[] raw) {
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

    /** The record an exclusive holder writes for {@code generation}. */
    OwnerRecord exclusiveRecord(long generation, String operation) {
        return OwnerRecord.forThisProcess(provider, LockMode.EXCLUSIVE, generation, operation);
    }

    private void warnIfForeign(Path path, OwnerRecord record) {
        if (compatible.contains(record.provider())) {
            return;
        }
        if (warned.size() >= MAX_WARNED_PATHS) {
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
