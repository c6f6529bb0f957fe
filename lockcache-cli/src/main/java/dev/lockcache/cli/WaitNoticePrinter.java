package dev.lockcache.cli;

import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.WaitListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;

/**
 * Says on stderr, one line at a time, that a command is still waiting for a lock: the lock, who holds it (pid,
 * host, since when, what it said it was doing) and how long this process has waited.
 */
final class WaitNoticePrinter implements WaitListener {

    private final String who;
    private final PrintStream err;

    WaitNoticePrinter(String who, PrintStream err) {
        this.who = who;
        this.err = err;
    }

    @Override
    public void stillWaiting(Path path, Duration waited, LockOwner holder) {
        err.println(line(who, path, waited, holder));
        err.flush();
    }

    static String line(String who, Path path, Duration waited, LockOwner holder) {
        return who + ": waiting for " + path + ", held by " + describe(holder) + "; waited " + seconds(waited);
    }

    private static String describe(LockOwner holder) {
        if (!(holder instanceof LockOwner.Known known)) {
            return holder.describe();
        }
        OwnerRecord r = known.record();
        StringBuilder text = new StringBuilder()
                .append("pid ")
                .append(r.pid())
                .append(" on ")
                .append(r.host())
                .append(" since ")
                .append(r.acquiredAt().truncatedTo(ChronoUnit.SECONDS))
                .append(" (")
                .append(r.provider())
                .append(", ")
                .append(r.mode().name().toLowerCase(java.util.Locale.ROOT));
        if (!r.operation().isEmpty()) {
            text.append(", '").append(r.operation()).append('\'');
        }
        return text.append(')').toString();
    }

    private static String seconds(Duration waited) {
        long tenths = waited.toMillis() / 100;
        return tenths / 10 + "." + tenths % 10 + " s";
    }
}
