package dev.lockcache.cli;

import dev.lockcache.lock.LockProviderException;
import dev.lockcache.lock.LockTimeoutException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code lockcache} command line. {@link #main} parses the arguments with picocli, runs one subcommand and
 * exits with a status from {@link ExitCode} (or, for {@code run}, the command's own status).
 *
 * <p>Errors are reported as one line on stderr, {@code lockcache SUBCOMMAND: what went wrong; what to do};
 * {@code --verbose} adds DEBUG logging and the stack trace.
 */
@Command(
        name = "lockcache",
        mixinStandardHelpOptions = true,
        scope = ScopeType.INHERIT,
        versionProvider = Main.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Cross-process file locks, and a dataset cache that fetches each dataset exactly once.",
            "Each command lists its own exit statuses in 'lockcache COMMAND --help'."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:Success.",
            "64:Bad usage: an unknown option or command.",
        })
public final class Main implements Runnable {

    @Spec
    private CommandLine.Model.CommandSpec spec;

    private boolean verbose;

    /** SLF4J's system property naming its provider: set, it stops SLF4J from scanning the class path. */
    private static final String SLF4J_PROVIDER = "slf4j.provider";

    /** SLF4J's own reporting threshold. */
    private static final String SLF4J_VERBOSITY = "slf4j.internal.verbosity";

    /** Runs the command line and exits the JVM with its status. */
    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** The subcommands, in the order help lists them; each is built only when it is the one asked for. */
    private static final String[] SUBCOMMANDS = {"fetch", "run", "providers", "inspect", "gc", "demo", "demo-worker"};

    /** The subcommand choice of a bare {@code --version}: none at all. */
    private static final String NONE = "";

    /** Runs the command line and returns its exit status, without exiting (for tests and embedding). */
    public static int execute(String... args) {
        if (System.getProperty(SLF4J_PROVIDER) == null) {
            System.setProperty(SLF4J_PROVIDER, StderrLoggerProvider.class.getName());
            System.setProperty(SLF4J_VERBOSITY, "WARN"); // else SLF4J says on stderr that it used the property
        }
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            for (String line : new Version().getVersion()) { // the common case, without building any command model
                System.out.println(line);
            }
            System.out.flush();
            return ExitCode.OK;
        }
        Main main = new Main();
        CommandLine line = new CommandLine(main);
        String chosen = chosenSubcommand(args);
        for (String name : SUBCOMMANDS) {
            if (chosen == null || chosen.equals(name)) { // NONE matches no name
                line.addSubcommand(name, subcommand(name));
            }
        }
        if (chosen == null) {
            line.addSubcommand("help", new CommandLine.HelpCommand());
        }
        CommandLine run = line.getSubcommands().get("run");
        if (run != null) {
            run.setStopAtPositional(true);
        }
        line.setOut(new PrintWriter(System.out, true));
        line.setErr(new PrintWriter(System.err, true));
        line.setParameterExceptionHandler((e, arguments) -> main.usageError(e));
        line.setExecutionExceptionHandler((e, commandLine, parseResult) -> main.failure(e, commandLine));
        return line.execute(args);
    }

    /**
     * The subcommand {@code args} name, when it is one of ours: the first argument that is not an option (the
     * top level takes no option with a value). {@code null} for help, no command or an unknown one, which need
     * them all; {@link #NONE} for {@code --version} alone, which needs none.
     */
    private static String chosenSubcommand(String[] args) {
        boolean version = false;
        for (String arg : args) {
            version |= arg.equals("-V") || arg.equals("--version");
            if (!arg.startsWith("-")) {
                for (String name : SUBCOMMANDS) {
                    if (name.equals(arg)) {
                        return name;
                    }
                }
                return null;
            }
        }
        return version ? NONE : null;
    }

    /** A new instance of one subcommand; a switch rather than a table of lambdas, so nothing else is loaded. */
    private static Object subcommand(String name) {
        return switch (name) {
            case "fetch" -> new FetchCommand();
            case "run" -> new RunCommand();
            case "providers" -> new ProvidersCommand();
            case "inspect" -> new InspectCommand();
            case "gc" -> new GcCommand();
            case "demo" -> new DemoCommand();
            case "demo-worker" -> new DemoWorkerCommand();
            default -> throw new IllegalArgumentException("no subcommand " + name);
        };
    }

    @Option(
            names = "--verbose",
            scope = ScopeType.INHERIT,
            description = "Log at DEBUG level on stderr and print stack traces of errors.")
    void setVerbose(boolean on) {
        verbose = on;
        if (on) {
            StderrLoggerProvider.enableDebug();
        }
    }

    @Override
    public void run() {
        throw new ParameterException(
                spec.commandLine(), "missing command: one of fetch, run, providers, inspect, gc, demo");
    }

    private int usageError(ParameterException e) {
        CommandLine where = e.getCommandLine();
        String name = where.getCommandSpec().qualifiedName();
        PrintWriter err = where.getErr();
        if (verbose) {
            e.printStackTrace(err);
        }
        err.println(name + ": " + oneLine(e.getMessage()) + " (see '" + name + " --help')");
        err.flush();
        return ExitCode.USAGE;
    }

    private int failure(Exception e, CommandLine where) {
        PrintWriter err = where.getErr();
        if (verbose) {
            e.printStackTrace(err);
        }
        err.println(where.getCommandSpec().qualifiedName() + ": " + describe(e));
        err.flush();
        return exitCodeFor(e);
    }

    static int exitCodeFor(Throwable e) {
        if (e instanceof CommandFailure failure) {
            return failure.exitCode();
        }
        if (e instanceof LockTimeoutException) {
            return ExitCode.LOCK_NOT_OBTAINED;
        }
        return ExitCode.FAILURE;
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        if (e instanceof LockProviderException || e instanceof CommandFailure || isOurs(e)) {
            return oneLine(message == null ? e.getClass().getSimpleName() : message);
        }
        if (e instanceof InterruptedException) {
            return "interrupted";
        }
        if (e instanceof UncheckedIOException || e instanceof IOException) {
            Throwable io = e instanceof UncheckedIOException ? e.getCause() : e;
            return oneLine(io.getClass().getSimpleName() + ": " + io.getMessage());
        }
        return oneLine("unexpected " + e.getClass().getName() + (message == null ? "" : ": " + message)
                + " (run with --verbose for the stack trace)");
    }

    private static boolean isOurs(Throwable e) {
        return e.getClass().getName().startsWith("dev.lockcache.");
    }

    static String oneLine(String message) {
        return message == null ? "" : message.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /** The version from the build. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties properties = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    properties.load(in);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the version resource", e);
            }
            return new String[] {
                "lockcache " + properties.getProperty("version", "unknown"),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "unknown vendor") + ")"
            };
        }
    }
}
