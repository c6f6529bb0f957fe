package dev.lockcache.cli;

import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.LockFeature;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * Whether a lock would be judged stale, and why, from what can be seen without taking it. Only proof counts:
 * on this host a holder is dead when its pid is gone or now belongs to a process with another start time; for
 * another host nothing seen here can tell, only a heartbeat lease measured over time.
 *
 * @param verdict {@code "no"}, {@code "yes"} or {@code "unknown"}
 * @param reason the evidence, in a sentence
 */
record StaleJudgement(String verdict, String reason) {

    static final String NO = "no";
    static final String YES = "yes";
    static final String UNKNOWN = "unknown";

    /** Start instants of live processes by pid, empty for none: {@code ProcessHandle} in production. */
    static final LongFunction<Optional<Optional<Instant>>> PROCESSES = pid -> ProcessHandle.of(pid)
            .filter(ProcessHandle::isAlive)
            .map(handle -> handle.info().startInstant());

    static StaleJudgement of(boolean held, LockOwner owner, Set<LockFeature> features) {
        return of(held, owner, features, PROCESSES);
    }

    static StaleJudgement of(
            boolean held,
            LockOwner owner,
            Set<LockFeature> features,
            LongFunction<Optional<Optional<Instant>>> processes) {
        if (!held) {
            return new StaleJudgement(
                    NO,
                    "nobody holds the lock now"
                            + (owner instanceof LockOwner.Known ? "; the record is the last holder's" : ""));
        }
        if (features.contains(LockFeature.RELEASED_ON_CRASH)) {
            return new StaleJudgement(
                    NO, "the kernel releases this kind of lock when its holder dies, so a held lock has a live holder");
        }
        if (!(owner instanceof LockOwner.Known known)) {
            return new StaleJudgement(
                    UNKNOWN,
                    "held, but " + owner.describe()
                            + ": only a heartbeat lease (a record that stops changing) can prove it stale");
        }
        OwnerRecord record = known.record();
        if (!record.isThisHost()) {
            return new StaleJudgement(
                    UNKNOWN,
                    "held from host " + record.host()
                            + ": a pid from another host cannot be checked here; only a heartbeat lease can tell"
                            + " (heartbeat now " + record.heartbeat()
                            + "; stale if it stops moving for the lease time)");
        }
        Optional<Optional<Instant>> process = processes.apply(record.pid());
        if (process.isEmpty()) {
            return new StaleJudgement(YES, "pid " + record.pid() + " is not running on this host");
        }
        Optional<Instant> started = process.get();
        Optional<Instant> recorded = record.processStart();
        if (started.isPresent()
                && recorded.isPresent()
                && started.get().toEpochMilli() != recorded.get().toEpochMilli()) {
            return new StaleJudgement(
                    YES,
                    "pid " + record.pid() + " now belongs to another process (started " + started.get()
                            + ", the holder started " + recorded.get() + ")");
        }
        if (started.isEmpty() || recorded.isEmpty()) {
            return new StaleJudgement(
                    NO,
                    "pid " + record.pid()
                            + " is alive (its start time is unknown, so a reused pid cannot be ruled out)");
        }
        return new StaleJudgement(
                NO, "pid " + record.pid() + " is alive with the recorded start time " + recorded.get());
    }
}
