package dev.lockcache.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import jnr.constants.platform.Errno;
import jnr.constants.platform.Fcntl;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.SpawnAttribute;
import jnr.posix.SpawnFileAction;

/**
 * The command {@code lockcache run} starts, spawned with {@code posix_spawnp(3)} rather than {@link
 * ProcessBuilder} (which closes every descriptor above 2 in the child), in one of two ways:
 *
 * <ul>
 *   <li><b>hand-over</b>: the command inherits the locked descriptor at the same number, so a lock that belongs
 *       to an open file description (flock, OFD) lives until the command and everything it started have closed
 *       it, even if this JVM is killed;
 *   <li><b>watchdog</b>: the command is started through a small {@code sh} wrapper that holds the read end of a
 *       pipe whose write end only this JVM has. When the JVM dies without saying the command is over, the pipe
 *       reads end-of-file and the wrapper kills the command's process group with SIGKILL, so the command never
 *       outlives a lock that dies with the JVM (classic fcntl, exclusive-create, ZooKeeper).
 * </ul>
 *
 * <p>Every other descriptor of this JVM is marked close-on-exec first, so the command sees only 0, 1, 2 (and the
 * lock's, on hand-over). The command runs in a process group of its own unless stdin is a terminal (then it
 * shares this process's group so it can read the terminal and the terminal's Ctrl-C reaches it); SIGTERM, SIGINT
 * and SIGHUP sent to this JVM are forwarded to that group (or, but for SIGINT, which the terminal sends to the
 * whole group anyway, to the command alone when it shares ours).
 */
final class SpawnedCommand {

    /** The descriptor number the watchdog wrapper reads its pipe from. */
    private static final int WATCH_FD = 3;

    /**
     * Runs {@code "$@"} in place of the wrapper (same pid), after starting a watcher in the background that
     * waits for one line on descriptor 3. A line means the JVM saw the command end: nothing to do. End of file
     * without a line means the JVM died: kill the command's group (the wrapper's pid is the group's id when it
     * has one of its own), else the command alone.
     */
    private static final String WATCHDOG_SCRIPT = "{ read -r line || kill -KILL -$$ 2>/dev/null || kill -KILL $$; } <&"
            + WATCH_FD + " >/dev/null 2>&1 & exec \"$@\" " + WATCH_FD + "<&-";

    private static final int FD_CLOEXEC = 1;
    private static final String[] FORWARDED = {"TERM", "INT", "HUP"};

    private final POSIX posix;
    private final long pid;
    private final boolean ownGroup;
    private final int watchWriteEnd;
    private volatile boolean reaped;

    private SpawnedCommand(POSIX posix, long pid, boolean ownGroup, int watchWriteEnd) {
        this.posix = posix;
        this.pid = pid;
        this.ownGroup = ownGroup;
        this.watchWriteEnd = watchWriteEnd;
    }

    /** Why a command could not be started, with the shell's status for it (126 or 127). */
    static final class StartFailure extends Exception {
        private static final long serialVersionUID = 1L;
        private final int exitCode;

        StartFailure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        int exitCode() {
            return exitCode;
        }
    }

    /**
     * Starts {@code argv}, handing it {@code inherited} (hand-over) or, when that is empty, under the watchdog.
     * Signal forwarding is set up before the command starts.
     */
    static SpawnedCommand start(List<String> argv, OptionalInt inherited) throws StartFailure {
        checkRunnable(argv.get(0));
        POSIX posix = POSIXFactory.getNativePOSIX();
        boolean ownGroup = posix.isatty(0) != 1;
        int keep = inherited.orElse(-1);
        markCloseOnExec(posix, keep);

        List<SpawnFileAction> actions = new ArrayList<>();
        List<String> spawned = argv;
        int[] pipe = null;
        if (inherited.isPresent()) {
            setCloseOnExec(posix, keep, false);
        } else {
            pipe = new int[2];
            if (posix.pipe(pipe) != 0) {
                throw new StartFailure(
                        ExitCode.COMMAND_NOT_EXECUTABLE, "cannot make the watchdog pipe: " + error(posix));
            }
            setCloseOnExec(posix, pipe[0], true);
            setCloseOnExec(posix, pipe[1], true);
            if (pipe[0] == WATCH_FD) {
                setCloseOnExec(posix, WATCH_FD, false);
            } else {
                actions.add(SpawnFileAction.dup(pipe[0], WATCH_FD));
            }
            spawned = new ArrayList<>(List.of("/bin/sh", "-c", WATCHDOG_SCRIPT, "lockcache-run"));
            spawned.addAll(argv);
        }
        List<SpawnAttribute> attributes = ownGroup
                ? List.of(SpawnAttribute.flags((short) SpawnAttribute.SETPGROUP), SpawnAttribute.pgroup(0))
                : List.of();

        Forwarder forwarder = new Forwarder();
        forwarder.install(ownGroup);
        long pid = posix.posix_spawnp(spawned.get(0), actions, attributes, spawned, environment());
        if (inherited.isPresent()) {
            setCloseOnExec(posix, keep, true);
        }
        if (pipe != null) {
            posix.close(pipe[0]);
        }
        if (pid <= 0) {
            if (pipe != null) {
                posix.close(pipe[1]);
            }
            // posix_spawnp returns its error rather than setting errno, and jnr-posix drops it
            throw new StartFailure(ExitCode.COMMAND_NOT_EXECUTABLE, cannotStart(argv.get(0)));
        }
        SpawnedCommand command = new SpawnedCommand(posix, pid, ownGroup, pipe == null ? -1 : pipe[1]);
        forwarder.target(command);
        return command;
    }

    /** Why {@code command} did not start, as far as can be told without posix_spawnp's error. */
    static String cannotStart(String command) {
        java.nio.file.Path file = java.nio.file.Path.of(command);
        if (command.contains("/")
                && java.nio.file.Files.isRegularFile(file)
                && java.nio.file.Files.isExecutable(file)) {
            // an executable regular file that does not start is most often open for writing (ETXTBSY)
            return "cannot start '" + command + "': it is an executable file, so it is probably open for writing"
                    + " (text file busy); an exclusive ofd, nio or double lock on the script itself holds it so"
                    + " (fcntl locks need write access): lock it with --provider flock, or lock another file";
        }
        return "cannot start '" + command + "'; check that it is an executable file";
    }

    /**
     * Waits for the command to end and returns its status as a shell reports it: the exit status, or 128 plus
     * the signal that killed it. Then tells the watchdog, if any, that all is well.
     */
    int waitFor() {
        int[] status = new int[1];
        while (true) {
            int r = posix.waitpid(pid, status, 0);
            if (r == pid) {
                reaped = true;
                break;
            }
            if (r < 0 && posix.errno() != Errno.EINTR.intValue()) {
                throw new CommandFailure(
                        ExitCode.FAILURE, "cannot wait for the command (pid " + pid + "): " + error(posix));
            }
        }
        if (watchWriteEnd >= 0) {
            posix.write(watchWriteEnd, new byte[] {'\n'}, 1);
            posix.close(watchWriteEnd);
        }
        int s = status[0];
        int signal = s & 0x7f;
        return signal == 0 ? (s >> 8) & 0xff : 128 + signal;
    }

    /** Sends {@code signal} to the command's process group, or to the command alone when it shares ours. */
    void signal(int signal) {
        if (reaped) {
            return; // the pid may name another process by now
        }
        posix.kill(ownGroup ? -pid : pid, signal);
    }

    long pid() {
        return pid;
    }

    /**
     * Fails as a shell would, before anything is spawned: 127 when {@code program} is not found (as a path, or
     * on {@code PATH}), 126 when it is found but is not an executable file.
     */
    private static void checkRunnable(String program) throws StartFailure {
        List<Path> candidates = new ArrayList<>();
        if (program.contains("/")) {
            candidates.add(Path.of(program));
        } else {
            String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
            for (String entry : path.split(":", -1)) {
                candidates.add(Path.of(entry.isEmpty() ? "." : entry, program));
            }
        }
        boolean found = false;
        for (Path candidate : candidates) {
            if (Files.exists(candidate)) {
                found = true;
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return;
                }
            }
        }
        if (!found) {
            throw new StartFailure(
                    ExitCode.COMMAND_NOT_FOUND, "cannot start '" + program + "': not found; check the name and PATH");
        }
        throw new StartFailure(
                ExitCode.COMMAND_NOT_EXECUTABLE,
                "cannot start '" + program + "': not an executable file; check its type and permissions");
    }

    /** Marks every open descriptor above 2 close-on-exec, except {@code keep}. */
    private static void markCloseOnExec(POSIX posix, int keep) {
        Path fds = Path.of("/proc/self/fd");
        List<Integer> open = new ArrayList<>();
        if (Files.isDirectory(fds)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
                for (Path entry : entries) {
                    try {
                        open.add(Integer.parseInt(entry.getFileName().toString()));
                    } catch (NumberFormatException ignored) {
                        // not a descriptor
                    }
                }
            } catch (IOException e) {
                open.clear();
            }
        }
        if (open.isEmpty()) {
            for (int fd = 3; fd < 1024; fd++) {
                open.add(fd);
            }
        }
        for (int fd : open) {
            if (fd > 2 && fd != keep) {
                setCloseOnExec(posix, fd, true);
            }
        }
    }

    private static void setCloseOnExec(POSIX posix, int fd, boolean on) {
        int flags = posix.fcntl(fd, Fcntl.F_GETFD);
        if (flags < 0) {
            return; // closed meanwhile (the directory stream's own descriptor)
        }
        posix.fcntlInt(fd, Fcntl.F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
    }

    private static List<String> environment() {
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> e : System.getenv().entrySet()) {
            env.add(e.getKey() + "=" + e.getValue());
        }
        return env;
    }

    private static String error(POSIX posix) {
        return describe(posix.errno());
    }

    private static String describe(int errno) {
        Errno e = Errno.valueOf(errno);
        return e == null || !e.defined() ? "errno " + errno : e.description();
    }

    /**
     * Forwards SIGTERM, SIGINT and SIGHUP to the command. A signal that arrives before the command is known is
     * kept and sent as soon as it is.
     */
    private static final class Forwarder {
        private SpawnedCommand command;
        private int pending;

        /**
         * Installs the handlers. A command that shares our process group with the terminal already gets the
         * terminal's Ctrl-C itself, so SIGINT is not sent to it a second time.
         */
        void install(boolean ownGroup) {
            for (String name : FORWARDED) {
                if (!ownGroup && name.equals("INT")) {
                    continue;
                }
                try {
                    sun.misc.Signal.handle(new sun.misc.Signal(name), this::received);
                } catch (IllegalArgumentException ignoredBySomeone) {
                    // the JVM was started with this signal ignored (nohup): the command inherits that too
                }
            }
        }

        private void received(sun.misc.Signal signal) {
            SpawnedCommand target;
            synchronized (this) {
                target = command;
                if (target == null) {
                    pending = signal.getNumber();
                    return;
                }
            }
            target.signal(signal.getNumber());
        }

        void target(SpawnedCommand spawned) {
            int send;
            synchronized (this) {
                command = spawned;
                send = pending;
            }
            if (send != 0) {
                spawned.signal(send);
            }
        }
    }
}
