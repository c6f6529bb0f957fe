package dev.lockcache.lock;

import java.util.List;

/** No usable lock provider, an unknown provider name, or several candidates and no rule to choose. */
public final class LockProviderException extends LockException {
    private static final long serialVersionUID = 1L;

    private final List<String> candidates;

    public LockProviderException(String message, List<String> candidates) {
        super(message);
        this.candidates = List.copyOf(candidates);
    }

    /** The provider names (with their state) that discovery found. */
    public List<String> candidates() {
        return candidates;
    }
}
