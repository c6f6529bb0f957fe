package dev.lockcache.lock;

/**
 * What the owner record of a lock says right now: a readable record, an unreadable one (empty, truncated,
 * oversized or garbage — a full disk creates the file but fails the write), or none at all.
 */
public sealed interface LockOwner {

    /** A one-line description for messages. */
    String describe();

    /** A well-formed record. */
    record Known(OwnerRecord record) implements LockOwner {
        public Known {
            if (record == null) {
                throw new IllegalArgumentException("record must not be null");
            }
        }

        @Override
        public String describe() {
            return record.describe();
        }
    }

    /** A record that exists but cannot be read, with why. */
    record Unreadable(String reason) implements LockOwner {
        public Unreadable {
            if (reason == null || reason.isBlank()) {
                throw new IllegalArgumentException("reason must be given");
            }
        }

        @Override
        public String describe() {
            return "an unknown holder (owner record unreadable: " + reason + ")";
        }
    }

    /** No record: the lock file is missing or the mechanism keeps none. */
    record Absent() implements LockOwner {
        @Override
        public String describe() {
            return "an unknown holder (no owner record)";
        }
    }
}
