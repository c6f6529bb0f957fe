package dev.lockcache.lock.spi;

import java.nio.file.Path;

/**
 * A provider's verdict on one directory: does its mechanism really exclude there?
 *
 * @param directory the directory probed
 * @param verdict the outcome
 * @param fileSystemType the file store type seen ({@code ext4}, {@code nfs4}, {@code fuse.xyz}...), or {@code
 *     "unknown"}
 * @param reason what was tried and what it showed, in a sentence
 */
public record ProbeResult(Path directory, Verdict verdict, String fileSystemType, String reason) {

    /** The outcomes of a probe. */
    public enum Verdict {
        /** Two independent attempts excluded each other: the mechanism works here. */
        EXCLUDES,
        /** Both attempts succeeded at once: the filesystem's locks lie, do not use this mechanism here. */
        DOES_NOT_EXCLUDE,
        /** The mechanism could not be tried here (not supported, no native library, permission). */
        UNAVAILABLE
    }

    public ProbeResult {
        if (directory == null || verdict == null || fileSystemType == null || reason == null) {
            throw new IllegalArgumentException("probe result fields must not be null");
        }
    }

    /** Whether the mechanism may be used on this directory. */
    public boolean usable() {
        return verdict == Verdict.EXCLUDES;
    }
}
