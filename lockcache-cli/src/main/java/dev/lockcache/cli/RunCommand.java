package dev.lockcache.cli;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockTimeoutException;
import dev.lockcache.lock.WaitNotices;
import dev.lockcache.lock.spi.Mechanism;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lockcache run}: holds a lock while a command runs, with util-linux {@code flock(1)}'s options and exit
 * statuses, and exits with the command's status.
 *
 * <p>How long the lock lives depends on the mechanism. flock and OFD locks belong to an open file description:
 * the command inherits the locked descriptor ({@link SpawnedCommand hand-over}), so the lock lasts until the
 * command and everything it started have exited, even if this JVM is killed. Every other mechanism (classic
 * fcntl, exclusive-create, ZooKeeper, the flock+fcntl {@code double}) and {@code --close} keep the lock in this
 * JVM only, so the command runs under a watchdog that kills it when this JVM dies.
 */
@Command(
        name = "run",
        sortOptions = false,
        usageHelpAutoWidth = true,
        customSynopsis = {
            "lockcache run [OPTIONS] FILE COMMAND [ARGS...]",
            "lockcache run [OPTIONS] FILE -c SHELL-COMMAND",
            "lockcache run [OPTIONS] --lock FILE [--] COMMAND [ARGS...]",
            "lockcache run [OPTIONS] --lock FILE -c SHELL-COMMAND"
        },
        description = {
            "Runs COMMAND while holding the lock on FILE, like flock(1), and exits with the command's status"
                    + " (128 plus the signal number when a signal killed it).",
            "",
            "With flock (the default on local disks) or ofd the command inherits the locked descriptor, so the lock"
                    + " lasts until the command and everything it started have exited, even if lockcache is killed."
                    + " With nio, double or exclusive-create, or with --close, the lock lives in lockcache alone,"
                    + " so the command is killed if lockcache dies.",
            "SIGTERM, SIGINT and SIGHUP are passed on to the command's process group. With --provider flock the"
                    + " lock excludes flock(1) on the same file, both ways.",
            ""
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "N:The command's own status, or 128+N when signal N killed it.",
            "1:The lock was not obtained (--nonblock, or --timeout passed); change it with --conflict-exit-code."
                    + " Also: the lock file could not be used (a directory, unreadable, a parent is a file).",
            "64:Bad usage: an unknown option or provider, a malformed duration, no command.",
            "126:The command was found but cannot be executed.",
            "127:The command was not found."
        })
final class RunCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    /** The mechanisms whose lock belongs to an open file description and so can be handed to the command. */
    private static final Set<Mechanism> HANDED_OVER = EnumSet.of(Mechanism.FLOCK, Mechanism.OFD);

    @Spec
    CommandSpec spec;

    @Option(
            names = "--lock",
            paramLabel = "FILE",
            description = "The lock file, created if missing and never deleted (instead of the FILE argument).")
    Path lock;

    @Option(
            names = {"-c", "--command"},
            paramLabel = "SHELL-COMMAND",
            description = "Run this one string through /bin/sh -c instead of COMMAND [ARGS...].")
    String shellCommand;

    @Option(
            names = {"-s", "--shared"},
            description = "Take a shared lock, held by any number of shared holders at once.")
    boolean shared;

    @Option(
            names = {"-x", "-e", "--exclusive"},
            description = "Take an exclusive lock (the default).")
    boolean exclusive;

    @Option(
            names = {"-n", "--nonblock", "--nb"},
            description = "Give up at once if the lock is held (wins over --timeout, as in flock(1)).")
    boolean nonblock;

    @Option(
            names = {"-w", "--timeout", "--wait"},
            paramLabel = "SECONDS",
            converter = DurationConverter.class,
            description = "Give up after this long: seconds as flock(1) takes them (5, 0, 0.5) or with a unit"
                    + " (500ms, 30s, 5m). 0 tries once. The default is to wait as long as it takes.")
    Optional<Duration> timeout;

    @Option(
            names = {"-E", "--conflict-exit-code"},
            paramLabel = "N",
            description = "The exit status when the lock is not obtained, 0 to 255 (default 1, as in flock(1)).")
    int conflictExitCode = 1;

    @Option(
            names = {"-o", "--close"},
            description = "Do not hand the locked descriptor to the command: the lock lives in lockcache alone"
                    + " and the command is killed if lockcache dies.")
    boolean close;

    @Option(
            names = {"-q", "--quiet"},
            description = "Print nothing while waiting for the lock.")
    boolean quiet;

    @Option(
            names = "--notice-after",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Say on stderr who holds the lock after waiting this long (default 1s).")
    Duration noticeAfter = WaitNotices.DEFAULT_FIRST;

    @Option(
            names = "--notice-every",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Say it again after every further wait this long (default 10s).")
    Duration noticeEvery = WaitNotices.DEFAULT_EVERY;

    @Option(
            names = "--provider",
            paramLabel = "NAME",
            description = "The lock mechanism: flock, ofd, nio, double or exclusive-create. The default is the one"
                    + " that works on the lock file's filesystem.")
    Optional<String> provider;

    @picocli.CommandLine.Mixin
    ZooKeeperOption zooKeeper = new ZooKeeperOption();

    @Parameters(
            arity = "0..*",
            paramLabel = "ARGS",
            description = "FILE (unless --lock is given), then the command and its arguments.")
    List<String> arguments = new ArrayList<>();

    @Override
    public Integer call() throws InterruptedException {
        if (conflictExitCode < 0 || conflictExitCode > 255) {
            throw new ParameterException(
                    spec.commandLine(), "--conflict-exit-code " + conflictExitCode + " is out of range; give 0 to 255");
        }
        if (shared && exclusive) {
            throw new ParameterException(spec.commandLine(), "--shared and --exclusive exclude each other; give one");
        }
        if (noticeAfter.isZero() || noticeEvery.isZero()) {
            throw new ParameterException(
                    spec.commandLine(), "--notice-after and --notice-every must be more than 0; use -q for silence");
        }
        List<String> rest = new ArrayList<>(arguments);
        Path file = lock;
        if (file == null) {
            if (rest.isEmpty()) {
                throw new ParameterException(
                        spec.commandLine(),
                        "missing FILE and COMMAND: give 'run FILE COMMAND' or 'run --lock FILE -- COMMAND'");
            }
            file = Path.of(rest.remove(0));
        }
        if (!rest.isEmpty() && rest.get(0).equals("--")) {
            rest.remove(0);
        }
        List<String> command = command(rest);

        LockOptions options = (shared ? LockOptions.shared() : LockOptions.exclusive())
                .withOperation("lockcache run " + String.join(" ", command));
        options =
                nonblock ? options.tryOnce() : timeout.map(options::withTimeout).orElseGet(options::waitForever);
        if (!quiet) {
            options = options.withWaitNotices(
                    new WaitNotices(noticeAfter, noticeEvery, new WaitNoticePrinter("lockcache run", System.err)));
        }
        Path absolute = file.toAbsolutePath().normalize();
        Path directory = absolute.getParent() == null ? absolute : absolute.getParent();
        provider = zooKeeper.apply(spec, provider, Optional.empty());
        ProviderSelection.Choice choice = ProviderSelection.forDirectory(spec, provider, directory);
        LOG.debug("locking {} with {} ({})", absolute, choice.provider().name(), choice.reason());
        LockHandle handle;
        try {
            handle = FileLocks.using(choice.provider()).acquire(absolute, options);
        } catch (LockTimeoutException e) {
            throw new CommandFailure(conflictExitCode, e.getMessage(), e);
        }
        OptionalInt descriptor =
                !close && HANDED_OVER.containsAll(choice.provider().mechanisms())
                        ? handle.inheritableDescriptor()
                        : OptionalInt.empty();
        LOG.debug(
                "holding {} {} (fencing token {}); running {} {}",
                handle.path(),
                handle.mode(),
                handle.fencingToken(),
                command,
                descriptor.isPresent() ? "with descriptor " + descriptor.getAsInt() : "under the watchdog");
        SpawnedCommand child;
        try {
            spec.commandLine().getOut().flush();
            child = SpawnedCommand.start(command, descriptor);
        } catch (SpawnedCommand.StartFailure e) {
            handle.close();
            throw new CommandFailure(e.exitCode(), e.getMessage(), e);
        }
        handle.onLost((lostHandle, reason) -> {
            System.err.println(
                    "lockcache run: the lock on " + absolute + " was lost (" + reason + "); stopping the command");
            child.signal(15);
        });
        int status = child.waitFor();
        LOG.debug("command exited with status {}", status);
        if (descriptor.isEmpty()) {
            handle.close();
        }
        // On hand-over the lock is left to the kernel: descendants of the command that still hold the
        // descriptor keep it, as with flock(1). Unlocking here would take it from them.
        return status;
    }

    private List<String> command(List<String> rest) {
        if (shellCommand != null) {
            if (!rest.isEmpty()) {
                throw new ParameterException(
                        spec.commandLine(),
                        "-c takes one shell command; put everything into it (found also " + rest + ")");
            }
            return List.of("/bin/sh", "-c", shellCommand);
        }
        if (!rest.isEmpty() && (rest.get(0).equals("-c") || rest.get(0).equals("--command"))) {
            if (rest.size() != 2) {
                throw new ParameterException(
                        spec.commandLine(), rest.get(0) + " requires exactly one command argument; quote the command");
            }
            return List.of("/bin/sh", "-c", rest.get(1));
        }
        if (rest.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "missing COMMAND to run under the lock");
        }
        return rest;
    }
}
