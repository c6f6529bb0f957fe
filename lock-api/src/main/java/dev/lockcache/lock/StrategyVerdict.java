package dev.lockcache.lock;

import dev.lockcache.lock.spi.LockProvider;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Which lock provider a directory gets, and why: the evidence (filesystem type, mount options), the reason in
 * a sentence, and what happened to every candidate of the table row. {@link #describe()} is what {@code
 * lockcache providers DIR} prints.
 *
 * @param directory the directory judged
 * @param provider the provider chosen
 * @param fileSystemType the filesystem type seen ({@code ext4}, {@code nfs4}...), or {@code unknown}
 * @param mountOptions the mount options seen (empty where the platform does not tell)
 * @param reason why this provider, in a sentence
 * @param candidates every provider considered, in order, with its outcome
 */
public record StrategyVerdict(
        Path directory,
        LockProvider provider,
        String fileSystemType,
        List<String> mountOptions,
        String reason,
        List<Candidate> candidates) {

    public StrategyVerdict {
        if (directory == null || provider == null || fileSystemType == null || reason == null) {
            throw new IllegalArgumentException("verdict fields must not be null");
        }
        mountOptions = List.copyOf(mountOptions);
        candidates = List.copyOf(candidates);
    }

    /** The chosen provider's name. */
    public String providerName() {
        return provider.name();
    }

    /** What happened to one candidate. */
    public enum Outcome {
        /** Chosen: available, not refused by the evidence, and its probe excluded. */
        CHOSEN,
        /** Not on the class path. */
        NOT_INSTALLED,
        /** On the class path but cannot run here (no native library, wrong OS). */
        UNAVAILABLE,
        /** The mount options say its locks do not reach other clients here. */
        REFUSED,
        /** Its probe found two independent attempts did not exclude each other. */
        DOES_NOT_EXCLUDE,
        /** Its probe could not try the mechanism here. */
        PROBE_UNAVAILABLE,
        /** Not looked at, because an earlier candidate was chosen. */
        NOT_TRIED
    }

    /**
     * One candidate's result.
     *
     * @param provider the provider name
     * @param outcome what happened
     * @param detail the provider's or the strategy's words
     */
    public record Candidate(String provider, Outcome outcome, String detail) {
        public Candidate {
            if (provider == null || outcome == null || detail == null) {
                throw new IllegalArgumentException("candidate fields must not be null");
            }
        }

        /** One line: the provider, its outcome and the detail. */
        public String describe() {
            return provider + ": " + outcome.name().toLowerCase(Locale.ROOT).replace('_', ' ')
                    + (detail.isEmpty() ? "" : " (" + detail + ")");
        }
    }

    /** A few lines for people: the choice, the evidence, the reason, and each candidate. */
    public String describe() {
        StringBuilder text = new StringBuilder()
                .append(directory)
                .append(": ")
                .append(providerName())
                .append('\n')
                .append("  filesystem: ")
                .append(fileSystemType)
                .append(mountOptions.isEmpty() ? "" : " (" + String.join(",", mountOptions) + ")")
                .append('\n')
                .append("  reason: ")
                .append(reason)
                .append('\n');
        for (Candidate c : candidates) {
            text.append("  - ").append(c.describe()).append('\n');
        }
        return text.toString();
    }
}
