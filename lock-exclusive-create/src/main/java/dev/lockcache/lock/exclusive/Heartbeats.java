package dev.lockcache.lock.exclusive;

import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The JVM's one heartbeat thread for exclusive-create locks: a daemon that bumps each held lock's heartbeat
 * on its schedule. Created on first use; a cancelled schedule is dropped at once.
 */
final class Heartbeats {

    private Heartbeats() {}

    private static final class Scheduler {
        static final ScheduledThreadPoolExecutor EXECUTOR = create();

        private static ScheduledThreadPoolExecutor create() {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
                Thread thread = new Thread(runnable, "lockcache-exclusive-create-heartbeat");
                thread.setDaemon(true);
                return thread;
            });
            executor.setRemoveOnCancelPolicy(true);
            executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            return executor;
        }
    }

    /** Bumps {@code hold}'s heartbeat every {@code period} until it stops. */
    static void start(ExclusiveHold hold, Duration period) {
        long nanos = period.toNanos();
        hold.startBeating(Scheduler.EXECUTOR.scheduleAtFixedRate(hold::beat, nanos, nanos, TimeUnit.NANOSECONDS));
    }
}
