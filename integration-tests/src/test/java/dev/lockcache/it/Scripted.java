package dev.lockcache.it;

import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A {@link FaultChild} (possibly under strace, in a mount namespace, under libfaketime) driven one command at a
 * time: {@link #ask} sends a command and returns its answer line; lines the child prints on its own ({@code LOST},
 * {@code WAITING}, {@code ASYNC ...}) are kept for {@link #awaitEvent}. Output of wrappers (strace, the JVM's
 * warnings) is skipped.
 */
final class Scripted implements AutoCloseable {

    private static final Set<String> EVENTS = Set.of("LOST", "WAITING", "ASYNC");
    private static final Set<String> ANSWERS = Set.of(
            "ACQUIRED",
            "BUSY",
            "FAILED",
            "TIMEOUT",
            "RELEASED",
            "RELEASE-FAILED",
            "IN",
            "OVERLAP",
            "REFUSED",
            "OUT",
            "DONE",
            "PATHS",
            "CLOCK",
            "FETCHED",
            "FETCH-FAILED",
            "DEBRIS",
            "FILLED",
            "REMOVED",
            "EXIT",
            "ERROR",
            "STARTED",
            "BYE",
            "LS");

    private final ChildJvm child;
    private final List<String> events = new ArrayList<>();
    private final long pid;
    private final long commandThread;

    private Scripted(ChildJvm child, long pid, long commandThread) {
        this.child = child;
        this.pid = pid;
        this.commandThread = commandThread;
    }

    /** Starts {@code command} (which runs a FaultChild somewhere inside) and waits for its {@code READY}. */
    static Scripted start(List<String> command) throws IOException, InterruptedException {
        ChildJvm child = ChildJvm.external(command);
        try {
            String[] ready = child.expect("READY ").split(" ");
            return new Scripted(child, Long.parseLong(ready[1]), Long.parseLong(ready[2]));
        } catch (RuntimeException | AssertionError | InterruptedException e) {
            child.kill();
            throw e;
        }
    }

    /** The FaultChild JVM's pid (not that of a wrapper around it). */
    long pid() {
        return pid;
    }

    /** The kernel thread id of the child's thread that runs the commands (for strace -p). */
    long commandThread() {
        return commandThread;
    }

    /** Sends {@code command} and returns the answer line. */
    String ask(String command) throws IOException, InterruptedException {
        child.send(command);
        return nextAnswer(command);
    }

    /** Sends {@code command} without waiting (for a child that is stopped, or about to be). */
    void send(String command) throws IOException {
        child.send(command);
    }

    /** The next answer line, for a command sent with {@link #send}. */
    String nextAnswer(String command) throws InterruptedException {
        while (true) {
            Optional<String> line = child.expectUnlessExit("");
            if (line.isEmpty()) {
                throw new AssertionError(
                        "child " + pid + " ended before answering '" + command + "'; printed " + child.transcript());
            }
            String first = line.get().split(" ", 2)[0];
            if (ANSWERS.contains(first)) {
                return line.get();
            }
            if (EVENTS.contains(first)) {
                events.add(line.get());
            }
        }
    }

    /** Waits for a line the child prints by itself that starts with {@code prefix} (one seen before counts). */
    String awaitEvent(String prefix) throws InterruptedException {
        for (String event : events) {
            if (event.startsWith(prefix)) {
                events.remove(event);
                return event;
            }
        }
        while (true) {
            Optional<String> line = child.expectUnlessExit("");
            if (line.isEmpty()) {
                throw new AssertionError(
                        "child " + pid + " ended before printing '" + prefix + "'; printed " + child.transcript());
            }
            if (line.get().startsWith(prefix)) {
                return line.get();
            }
            if (EVENTS.contains(line.get().split(" ", 2)[0])) {
                events.add(line.get());
            }
        }
    }

    /** Events seen so far that start with {@code prefix}, without waiting. */
    List<String> eventsSoFar(String prefix) {
        return events.stream().filter(e -> e.startsWith(prefix)).toList();
    }

    List<String> transcript() {
        return child.transcript();
    }

    /** Asks the child to end and waits for it (and its wrapper); returns the wrapper's exit status. */
    int exit() throws IOException, InterruptedException {
        child.send("exit");
        return child.awaitExit();
    }

    @Override
    public void close() throws InterruptedException {
        child.close();
    }
}
