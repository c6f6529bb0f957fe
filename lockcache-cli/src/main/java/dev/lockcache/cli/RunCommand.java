package dev.lockcache.cli;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
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
 * {@code lockcache run}: holds a lock while a command runs, like util-linux {@code flock(1)}, and exits with
 * the command's status. The lock is released when the command ends (or when this process dies: kernel locks
 * are dropped by the kernel). The command does not inherit the lock's descriptor.
 */
@Command(
        name = "run",
        sortOptions = false,
        description = {
            "Run COMMAND while holding the lock at PATH, like flock(1), and exit with its status.",
            "With --provider flock it excludes flock(1) on the same file, both ways."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "N:the command's own status",
            "64:bad usage",
            "75:lock not obtained (--nonblock, or --timeout passed)",
            "126:the command cannot be executed",
            "127:the command was not found",
            "1:the lock could not be used (a directory, unreadable, a parent is a file)"
        })
final class RunCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Spec
    CommandSpec spec;

    @Option(
            names = "--lock",
            required = true,
            paramLabel = "PATH",
            description = "The lock file (created if missing, never deleted).")
    Path lock;

    @Option(
            names = {"-s", "--shared"},
            description = "Take a shared lock instead of an exclusive one.")
    boolean shared;

    @Option(
            names = {"-w", "--timeout"},
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Give up after this long (500ms, 30s, 5m, PT1M). Default: wait as long as it takes.")
    Optional<Duration> timeout;

    @Option(
            names = {"-n", "--nonblock"},
            description = "Give up at once if the lock is held.")
    boolean nonblock;

    @Option(
            names = "--provider",
            paramLabel = "NAME",
            description = "Lock mechanism: flock, nio, ofd, double, exclusive-create.")
    Optional<String> provider;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The command and its arguments (after --).")
    List<String> command;

    @Override
    public Integer call() throws InterruptedException {
        if (nonblock && timeout.isPresent()) {
            throw new ParameterException(spec.commandLine(), "--nonblock and --timeout exclude each other; give one");
        }
        LockOptions options = (shared ? LockOptions.shared() : LockOptions.exclusive())
                .withOperation("lockcache run " + String.join(" ", command));
        options =
                nonblock ? options.tryOnce() : timeout.map(options::withTimeout).orElseGet(options::waitForever);
        Path absolute = lock.toAbsolutePath().normalize();
        Path directory = absolute.getParent() == null ? absolute : absolute.getParent();
        ProviderSelection.Choice choice = ProviderSelection.forDirectory(spec, provider, directory);
        LOG.debug("locking {} with {} ({})", absolute, choice.provider().name(), choice.reason());
        try (LockHandle handle = FileLocks.using(choice.provider()).acquire(absolute, options)) {
            LOG.debug(
                    "holding {} {} (fencing token {}); running {}",
                    handle.path(),
                    handle.mode(),
                    handle.fencingToken(),
                    command);
            return runHolding();
        }
    }

    private int runHolding() throws InterruptedException {
        spec.commandLine().getOut().flush();
        Process child;
        try {
            child = new ProcessBuilder(command).inheritIO().start();
        } catch (IOException e) {
            String why = Main.oneLine(e.getMessage());
            boolean missing = why.contains("error=2,") || why.contains("No such file");
            throw new CommandFailure(
                    missing ? ExitCode.COMMAND_NOT_FOUND : ExitCode.COMMAND_NOT_EXECUTABLE,
                    "cannot start '" + command.get(0) + "': " + why
                            + (missing ? "; check the name and PATH" : "; check that it is an executable file"),
                    e);
        }
        // if this process is told to stop, the command must not run on without the lock
        Thread stopChild = new Thread(() -> {
            child.destroy();
            try {
                child.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(stopChild);
        try {
            int status = child.waitFor();
            LOG.debug("command exited with status {}", status);
            return status;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stopChild);
            } catch (IllegalStateException shuttingDown) {
                // the hook is already running; it stops the child
            }
        }
    }
}
