package dev.lockcache.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.LockStatus;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lockcache inspect}: the owner record of a lock file, whether the lock is held right now (one try,
 * released at once), and whether its holder would be judged stale and why.
 */
@Command(
        name = "inspect",
        sortOptions = false,
        description = {
            "Shows who holds the lock at LOCKFILE, whether it is held right now, and whether the holder is stale.",
            "The owner record gives pid, host, since when, provider and heartbeat; the stale judgement says why."
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:The lock file was read (held or not).",
            "1:There is no lock file there, or it cannot be read.",
            "64:Bad usage: an unknown option or provider."
        })
final class InspectCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "LOCKFILE", description = "The lock file to look at.")
    Path lockFile;

    @Option(
            names = "--provider",
            paramLabel = "NAME",
            description = "Mechanism to test with. Default: the one named in the owner record, else the strategy's.")
    Optional<String> provider;

    @Option(names = "--json", description = "Print one JSON object for scripts.")
    boolean json;

    @Override
    public Integer call() {
        Path path = lockFile.toAbsolutePath().normalize();
        requireReadableFile(path);
        LockOwner recorded = LockProvider.readOwnerRecordFile(path);
        ProviderSelection.Choice choice = mechanism(path, recorded);
        LockStatus status = look(path, choice.provider());
        LockOwner owner = status.owner() instanceof LockOwner.Known ? status.owner() : recorded;
        StaleJudgement stale =
                StaleJudgement.of(status.held(), owner, choice.provider().features());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode report = Json.object();
            report.put("path", status.path().toString());
            report.put("held", status.held());
            report.put("checkedWith", choice.provider().name());
            report.put("checkedWithReason", choice.reason());
            report.set("owner", ownerJson(owner));
            report.put("stale", stale.verdict());
            report.put("staleReason", stale.reason());
            Json.print(out, report);
        } else {
            out.printf("lock file   %s%n", status.path());
            out.printf(
                    "held now    %s (tried with %s: %s)%n",
                    status.held() ? "yes" : "no", choice.provider().name(), choice.reason());
            printOwner(out, owner);
            out.printf("stale       %s: %s%n", stale.verdict(), stale.reason());
            out.flush();
        }
        return ExitCode.OK;
    }

    /**
     * Whether the lock is held, without side effects: a kernel lock is tried once and released; for a mechanism
     * whose lock file exists only while held (exclusive-create), the file's presence is the answer, because a
     * try would break a stale holder's lock, and inspecting must change nothing.
     */
    private static LockStatus look(Path path, LockProvider provider) {
        if (provider.features().contains(LockFeature.RELEASED_ON_CRASH)) {
            return FileLocks.using(provider).status(path);
        }
        return new LockStatus(path, provider.readOwner(path), Files.exists(path, LinkOption.NOFOLLOW_LINKS));
    }

    private ProviderSelection.Choice mechanism(Path path, LockOwner recorded) {
        if (provider.isEmpty() && recorded instanceof LockOwner.Known known) {
            Map<String, LockProvider> installed = LockProviders.installed();
            LockProvider writer = installed.get(known.record().provider());
            if (writer != null && writer.availability().available()) {
                return new ProviderSelection.Choice(writer, "the provider named in the owner record");
            }
        }
        return ProviderSelection.forDirectory(spec, provider, path.getParent());
    }

    private static void requireReadableFile(Path path) {
        if (Files.isDirectory(path)) {
            throw new CommandFailure(
                    ExitCode.FAILURE,
                    path + " is a directory, not a lock file; give the lock file inside it (for example "
                            + path.resolve(".lock") + ")");
        }
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new CommandFailure(
                    ExitCode.FAILURE, "no lock file at " + path + "; nothing has locked it yet (check the path)");
        }
        try (SeekableByteChannel ignored = Files.newByteChannel(path, StandardOpenOption.READ)) {
            // readable
        } catch (IOException e) {
            throw new CommandFailure(
                    ExitCode.FAILURE,
                    "cannot read lock file " + path + ": " + e.getClass().getSimpleName() + " (" + e.getMessage()
                            + "); check its permissions and that it is a regular file",
                    e);
        }
        if (!Files.isRegularFile(path)) {
            throw new CommandFailure(ExitCode.FAILURE, path + " is not a regular file; a lock file is a plain file");
        }
    }

    private static ObjectNode ownerJson(LockOwner owner) {
        ObjectNode node = Json.object();
        if (owner instanceof LockOwner.Known known) {
            OwnerRecord r = known.record();
            node.put("state", "known");
            node.put("pid", r.pid());
            node.put("host", r.host());
            node.put("thisHost", r.isThisHost());
            node.put("processStart", r.processStart().map(Object::toString).orElse(""));
            node.put("since", r.acquiredAt().toString());
            node.put("provider", r.provider());
            node.put("mode", r.mode().name().toLowerCase(java.util.Locale.ROOT));
            node.put("generation", r.generation());
            node.put("heartbeat", r.heartbeat());
            node.put("operation", r.operation());
        } else if (owner instanceof LockOwner.Unreadable unreadable) {
            node.put("state", "unreadable");
            node.put("reason", unreadable.reason());
        } else {
            node.put("state", "absent");
        }
        return node;
    }

    private static void printOwner(PrintWriter out, LockOwner owner) {
        if (!(owner instanceof LockOwner.Known known)) {
            out.printf(
                    "owner       %s%n",
                    owner instanceof LockOwner.Unreadable u ? "record unreadable: " + u.reason() : "no owner record");
            return;
        }
        OwnerRecord r = known.record();
        out.printf("owner       pid %d on %s%s%n", r.pid(), r.host(), r.isThisHost() ? " (this host)" : "");
        out.printf("  started   %s%n", r.processStart().map(Object::toString).orElse("unknown"));
        out.printf("  since     %s%n", r.acquiredAt());
        out.printf("  provider  %s, %s%n", r.provider(), r.mode().name().toLowerCase(java.util.Locale.ROOT));
        out.printf("  heartbeat %d%n", r.heartbeat());
        out.printf("  fencing   %d%n", r.generation());
        if (!r.operation().isEmpty()) {
            out.printf("  doing     %s%n", r.operation());
        }
    }
}
