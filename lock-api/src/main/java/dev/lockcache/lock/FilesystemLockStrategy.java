package dev.lockcache.lock;

import dev.lockcache.lock.StrategyVerdict.Candidate;
import dev.lockcache.lock.StrategyVerdict.Outcome;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.FileSystemKinds;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.Mechanism;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link LockStrategy}: the filesystem decides, not the OS name. It reads the mount (type and
 * options), takes the row of the design's table for it, refuses providers the mount options prove useless
 * there, confirms the first remaining installed, available provider with its probe, and remembers the verdict
 * per mount (logged once at INFO). An explicit provider wins over the table but not over the evidence, unless
 * forced.
 */
final class FilesystemLockStrategy implements LockStrategy {

    static final String FLOCK = "flock";
    static final String OFD = "ofd";
    static final String NIO = "nio";
    static final String EXCLUSIVE_CREATE = "exclusive-create";
    static final String DOUBLE = "double";

    private static final Logger LOG = LoggerFactory.getLogger(FilesystemLockStrategy.class);

    /** The kernel's lock mechanisms, whose reach the mount options decide. */
    private static final Set<Mechanism> KERNEL = EnumSet.of(Mechanism.FLOCK, Mechanism.FCNTL, Mechanism.OFD);

    private static final Set<String> WINDOWS_TYPES =
            Set.of("ntfs", "refs", "fat", "fat32", "cifs", "smb3", "smbfs", "smb2");

    /** The JVM's {@link LockStrategy#standard()}, built on first use. */
    static final class Standard {
        static final LockStrategy INSTANCE =
                LockStrategy.byFilesystem(LockProviders.installed(), ProviderChoice.fromEnvironment());

        private Standard() {}
    }

    /** Finds the mount a real directory lives on. */
    @FunctionalInterface
    interface MountLookup {
        MountTable.Mount lookup(Path realDirectory);
    }

    /** A row of the table: the filesystem as named, its candidates in order, and why. */
    record Row(String filesystem, List<String> candidates, String why) {}

    private final Map<String, LockProvider> providers;
    private final ProviderChoice choice;
    private final MountLookup mounts;
    private final Map<String, StrategyVerdict> verdicts = new HashMap<>(); // guarded by this

    FilesystemLockStrategy(Map<String, LockProvider> providers, ProviderChoice choice, MountLookup mounts) {
        this.providers = Collections.unmodifiableMap(new LinkedHashMap<>(providers));
        this.choice = choice;
        this.mounts = mounts;
    }

    /** Linux's mount table where there is one, else the file store's type without options. */
    static MountLookup systemMounts() {
        return dir -> MountTable.system().flatMap(table -> table.find(dir)).orElseGet(() -> fileStoreMount(dir));
    }

    private static MountTable.Mount fileStoreMount(Path dir) {
        Path root = dir.getRoot() == null ? dir : dir.getRoot();
        try {
            FileStore store = Files.getFileStore(dir);
            return new MountTable.Mount(root, store.type().toLowerCase(Locale.ROOT), store.name(), List.of());
        } catch (IOException e) {
            return new MountTable.Mount(root, "unknown", "", List.of());
        }
    }

    @Override
    public synchronized StrategyVerdict choose(Path directory) {
        Path real;
        try {
            real = directory.toRealPath();
        } catch (IOException e) {
            throw new LockProviderException(
                    "cannot choose a lock provider for " + directory + ": " + e + "; create the directory first",
                    List.of());
        }
        MountTable.Mount mount = mounts.lookup(real);
        String perMount = mount.mountPoint() + "\u0000" + mount.type() + "\u0000" + mount.source();
        StrategyVerdict known = verdicts.get(perMount);
        if (known != null) {
            return new StrategyVerdict(
                    real,
                    known.provider(),
                    known.fileSystemType(),
                    known.mountOptions(),
                    known.reason(),
                    known.candidates());
        }
        StrategyVerdict verdict = choice.provider().isPresent()
                ? explicit(real, mount, choice.provider().get())
                : byTable(real, mount);
        verdicts.put(perMount, verdict);
        LOG.info(
                "lock provider for {} ({} mounted at {}): {}; {}",
                real,
                verdict.fileSystemType(),
                mount.mountPoint(),
                verdict.providerName(),
                verdict.reason());
        LockEvents.verdict(verdict);
        return verdict;
    }

    private StrategyVerdict byTable(Path dir, MountTable.Mount mount) {
        Row row = row(mount, choice.interop());
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < row.candidates().size(); i++) {
            String name = row.candidates().get(i);
            LockProvider provider = providers.get(name);
            if (provider == null) {
                candidates.add(new Candidate(name, Outcome.NOT_INSTALLED, "not on the class path"));
                continue;
            }
            Availability availability = provider.availability();
            if (!availability.available()) {
                candidates.add(new Candidate(name, Outcome.UNAVAILABLE, availability.reason()));
                continue;
            }
            Optional<String> against = evidenceAgainst(provider.mechanisms(), mount);
            if (against.isPresent()) {
                candidates.add(new Candidate(name, Outcome.REFUSED, against.get()));
                continue;
            }
            ProbeResult probe = probe(provider, dir);
            if (!probe.usable()) {
                candidates.add(new Candidate(name, outcomeOf(probe), probe.reason()));
                continue;
            }
            candidates.add(new Candidate(name, Outcome.CHOSEN, probe.reason()));
            for (String rest : row.candidates().subList(i + 1, row.candidates().size())) {
                candidates.add(new Candidate(rest, Outcome.NOT_TRIED, ""));
            }
            return new StrategyVerdict(
                    dir,
                    provider,
                    typeOf(mount, probe),
                    mount.options(),
                    row.filesystem() + ": " + name + " (" + row.why() + ")",
                    candidates);
        }
        List<String> lines = candidates.stream().map(Candidate::describe).toList();
        throw new LockProviderException(
                "no lock provider works for " + dir + " (" + row.filesystem() + ", " + mount.type() + " at "
                        + mount.mountPoint() + "); tried " + String.join("; ", lines) + ". Install one of "
                        + row.candidates() + " or name a provider with -D" + ProviderChoice.PROVIDER_PROPERTY + "=NAME",
                lines);
    }

    private StrategyVerdict explicit(Path dir, MountTable.Mount mount, String name) {
        LockProvider provider = providers.get(name);
        List<String> installed = new ArrayList<>(providers.keySet());
        if (provider == null) {
            throw new LockProviderException(
                    "lock provider '" + name + "' was asked for (" + ProviderChoice.PROVIDER_PROPERTY + ", "
                            + ProviderChoice.PROVIDER_ENV + ", Guice or the builder) but is not installed; installed: "
                            + installed + ". Add its module to the class path or use one of these",
                    installed);
        }
        Availability availability = provider.availability();
        if (!availability.available()) {
            throw new LockProviderException(
                    "lock provider '" + name + "' was asked for but cannot run here: " + availability.reason(),
                    installed);
        }
        Row row = row(mount, choice.interop());
        String override = "-D" + ProviderChoice.FORCE_PROPERTY + "=true (or " + ProviderChoice.FORCE_ENV + "=true)";
        Optional<String> against = evidenceAgainst(provider.mechanisms(), mount);
        if (against.isPresent() && !choice.force()) {
            throw new LockProviderException(
                    "lock provider '" + name + "' was asked for " + dir + " but is unsafe there: " + against.get()
                            + ". Remove the explicit choice to use this filesystem's row " + row.candidates()
                            + ", or, if you know its locks do reach every client, set " + override,
                    installed);
        }
        ProbeResult probe = probe(provider, dir);
        if (probe.verdict() == ProbeResult.Verdict.UNAVAILABLE) {
            throw new LockProviderException(
                    "lock provider '" + name + "' was asked for " + dir + " but could not be tried there: "
                            + probe.reason(),
                    installed);
        }
        if (probe.verdict() == ProbeResult.Verdict.DOES_NOT_EXCLUDE && !choice.force()) {
            throw new LockProviderException(
                    "lock provider '" + name + "' was asked for " + dir + " but its probe found that two "
                            + "independent locks did not exclude each other there: " + probe.reason()
                            + ". Use this filesystem's row " + row.candidates() + ", or override with " + override,
                    installed);
        }
        String reason = "explicitly chosen; probe: " + probe.reason();
        List<String> doubts = new ArrayList<>();
        against.ifPresent(doubts::add);
        if (!probe.usable()) {
            doubts.add("its probe did not exclude: " + probe.reason());
        }
        if (!doubts.isEmpty()) {
            reason = "explicitly chosen and FORCED despite: " + String.join("; ", doubts);
            LOG.warn("lock provider '{}' forced for {} against the evidence: {}", name, dir, String.join("; ", doubts));
        }
        return new StrategyVerdict(
                dir,
                provider,
                typeOf(mount, probe),
                mount.options(),
                reason,
                List.of(new Candidate(name, Outcome.CHOSEN, probe.reason())));
    }

    /** The table row for a mount. */
    static Row row(MountTable.Mount mount, boolean interop) {
        if (interop) {
            return new Row(
                    "polyglot interop requested",
                    List.of(DOUBLE),
                    "flock and fcntl together, in a fixed order, exclude flock(1), py-filelock, fcntl/lockf and Java"
                            + " peers alike");
        }
        String type = mount.type();
        if (isNfs(type)) {
            Optional<String> local = nfsLocalLocks(mount);
            if (local.isPresent() && !local.get().equals("flock")) {
                return new Row(
                        "NFS with client-local locks (" + local.get() + ")",
                        List.of(EXCLUSIVE_CREATE),
                        "lock requests never reach the server; only an atomic create is coherent between clients");
            }
            return new Row(
                    "NFS with a working lock manager",
                    List.of(OFD, NIO, EXCLUSIVE_CREATE),
                    "fcntl locks are coherent across clients; flock may be client-local");
        }
        if (type.equals("lustre")) {
            if (mount.has("flock") && !mount.has("localflock")) {
                return new Row(
                        "Lustre with cluster-wide flock",
                        List.of(OFD, NIO, EXCLUSIVE_CREATE),
                        "the flock mount option makes fcntl locks coherent across nodes");
            }
            return new Row(
                    "Lustre with node-local or no locks",
                    List.of(EXCLUSIVE_CREATE),
                    "localflock/noflock: kernel locks do not reach other nodes");
        }
        if (type.equals("gpfs")) {
            return new Row("GPFS", List.of(EXCLUSIVE_CREATE), "kernel locks may be node-local");
        }
        if (WINDOWS_TYPES.contains(type)) {
            return new Row(
                    "Windows / SMB",
                    List.of(NIO, EXCLUSIVE_CREATE),
                    "LockFileEx is native there and released on crash");
        }
        if (FileSystemKinds.isLocalPosix(type)) {
            return new Row(
                    "local POSIX filesystem",
                    List.of(FLOCK, OFD, NIO, EXCLUSIVE_CREATE),
                    "released by the kernel on crash, per-descriptor, blocking hand-off");
        }
        if (type.equals("fuse") || type.equals("fuseblk") || type.startsWith("fuse.")) {
            return new Row(
                    "FUSE filesystem (" + type + ")",
                    List.of(EXCLUSIVE_CREATE),
                    "its lock semantics are unknown; an atomic create with a heartbeat lease is coherent");
        }
        return new Row(
                "unknown filesystem '" + type + "'",
                List.of(EXCLUSIVE_CREATE),
                "its lock semantics are unknown; an atomic create with a heartbeat lease is coherent");
    }

    /**
     * Why the mount options say a provider holding {@code mechanisms} would not reach other clients there, if
     * they do. A provider that holds several mechanisms (a composite) is refused when any of them stays local:
     * its promise is to exclude every peer of each. Decided by the mechanisms, through {@link Mechanism}'s
     * closed set, never by provider names; a provider outside the table (no mechanisms) has no evidence against
     * it here and is judged by its probe.
     */
    static Optional<String> evidenceAgainst(Set<Mechanism> mechanisms, MountTable.Mount mount) {
        String type = mount.type();
        if (isNfs(type)) {
            Optional<String> local = nfsLocalLocks(mount);
            if (local.isEmpty()) {
                return Optional.empty();
            }
            String scope = local.get();
            String how = scope.equals("nolock") ? "'nolock'" : "'local_lock=" + scope + "'";
            Set<Mechanism> clientLocal = EnumSet.noneOf(Mechanism.class);
            if (!scope.equals("posix")) {
                clientLocal.add(Mechanism.FLOCK);
            }
            if (!scope.equals("flock")) {
                clientLocal.add(Mechanism.FCNTL);
                clientLocal.add(Mechanism.OFD);
            }
            if (mechanisms.contains(Mechanism.FLOCK) && clientLocal.contains(Mechanism.FLOCK)) {
                return Optional.of("NFS is mounted with " + how + ", so flock locks stay on this client");
            }
            if (mechanisms.stream().anyMatch(m -> m != Mechanism.FLOCK && clientLocal.contains(m))) {
                return Optional.of("NFS is mounted with " + how + ", so fcntl (POSIX/OFD) locks stay on this client");
            }
            return Optional.empty();
        }
        boolean kernel = mechanisms.stream().anyMatch(KERNEL::contains);
        if (type.equals("lustre") && kernel) {
            if (mount.has("localflock")) {
                return Optional.of("Lustre is mounted with 'localflock', so flock and fcntl locks stay on this node");
            }
            if (!mount.has("flock")) {
                return Optional.of("Lustre is mounted without 'flock', so flock and fcntl locks are not supported");
            }
        }
        return Optional.empty();
    }

    /** {@code nolock}, or the value of {@code local_lock} other than {@code none}; empty when locks go to the server. */
    private static Optional<String> nfsLocalLocks(MountTable.Mount mount) {
        if (mount.has("nolock")) {
            return Optional.of("nolock");
        }
        return mount.value("local_lock").filter(v -> !v.equals("none"));
    }

    private static boolean isNfs(String type) {
        return type.equals("nfs") || type.equals("nfs4");
    }

    private static ProbeResult probe(LockProvider provider, Path dir) {
        try {
            return provider.probe(dir);
        } catch (RuntimeException e) {
            return new ProbeResult(dir, ProbeResult.Verdict.UNAVAILABLE, "unknown", "probe failed: " + e);
        }
    }

    private static Outcome outcomeOf(ProbeResult probe) {
        return probe.verdict() == ProbeResult.Verdict.DOES_NOT_EXCLUDE
                ? Outcome.DOES_NOT_EXCLUDE
                : Outcome.PROBE_UNAVAILABLE;
    }

    private static String typeOf(MountTable.Mount mount, ProbeResult probe) {
        return mount.type().equals("unknown") ? probe.fileSystemType() : mount.type();
    }
}
