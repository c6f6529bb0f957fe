package dev.lockcache.lock.spi;

import dev.lockcache.lock.LockMode;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * A provider's record of one lock it took: whatever it needs to release it (descriptor, channel, token),
 * plus what the handle shows callers. Created by {@link LockProvider#tryLock} or {@link
 * LockProvider#awaitLock}, handed back exactly once to {@link LockProvider#release}.
 */
public interface HeldLock {

    /** The lock file's real path. */
    Path path();

    /** The mode actually held. */
    LockMode mode();

    /**
     * The fencing token of this acquisition: larger than that of every earlier exclusive acquisition of the
     * same lock, across processes, as far as the mechanism can tell. A mechanism without a shared counter that
     * only grows must return a constant (say 0) rather than a per-JVM count: a count that restarts low in a new
     * process would make writers that compare tokens refuse its work forever.
     */
    long fencingToken();

    /**
     * The descriptor whose open file description carries the lock, for mechanisms whose lock belongs to it
     * (so that a child process can inherit it); empty by default.
     */
    default OptionalInt inheritableDescriptor() {
        return OptionalInt.empty();
    }

    /**
     * Subscribes {@code listener} to this lock's loss (see {@link LossNotice}): told once, with the reason, as
     * soon as the mechanism finds the lock taken away while held. The default never tells: kernel locks are
     * not lost while the holder lives.
     */
    default void onLost(Consumer<String> listener) {}

    /** The reason this lock was lost, if the mechanism knows it was; empty by default. */
    default Optional<String> lost() {
        return Optional.empty();
    }
}
