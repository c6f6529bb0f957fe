package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.lockcache.lock.StrategyVerdict.Outcome;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.Mechanism;
import dev.lockcache.lock.spi.ProbeResult;
import dev.lockcache.lock.spi.ProbeResult.Verdict;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class FilesystemLockStrategyTest {

    @TempDir
    Path dir;

    private final MountTable mounts = MountTable.parse(MountTableTest.FIXTURE);

    /** A provider whose availability and probe verdict are scripted; it is never asked to lock. */
    static class FakeProvider implements LockProvider {
        final String name;
        final boolean available;
        final Verdict verdict;
        final AtomicInteger probes = new AtomicInteger();

        FakeProvider(String name, boolean available, Verdict verdict) {
            this.name = name;
            this.available = available;
            this.verdict = verdict;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Set<LockFeature> features() {
            return Set.of(LockFeature.CROSS_PROCESS);
        }

        /** What the real provider of this name holds; the strategy decides by these, never by the name. */
        @Override
        public Set<Mechanism> mechanisms() {
            return switch (name) {
                case "flock" -> Set.of(Mechanism.FLOCK);
                case "ofd" -> Set.of(Mechanism.OFD);
                case "nio" -> Set.of(Mechanism.FCNTL);
                case "exclusive-create" -> Set.of(Mechanism.EXCLUSIVE_CREATE);
                case "double" -> Set.of(Mechanism.FLOCK, Mechanism.FCNTL);
                default -> Set.of();
            };
        }

        @Override
        public Availability availability() {
            return available ? Availability.available("fake") : Availability.unavailable("no native library (fake)");
        }

        @Override
        public ProbeResult probe(Path directory) {
            probes.incrementAndGet();
            return new ProbeResult(directory, verdict, "probed-type", name + " probe said " + verdict);
        }

        @Override
        public Optional<HeldLock> tryLock(LockRequest request) {
            throw new UnsupportedOperationException("strategy tests never lock");
        }

        @Override
        public void release(HeldLock lock) {
            throw new UnsupportedOperationException("strategy tests never lock");
        }
    }

    private static Map<String, LockProvider> providers(FakeProvider... fakes) {
        Map<String, LockProvider> byName = new LinkedHashMap<>();
        for (FakeProvider f : fakes) {
            byName.put(f.name, f);
        }
        return byName;
    }

    private static FakeProvider ok(String name) {
        return new FakeProvider(name, true, Verdict.EXCLUDES);
    }

    private static Map<String, LockProvider> all() {
        return providers(ok("flock"), ok("ofd"), ok("nio"), ok("exclusive-create"), ok("double"));
    }

    private StrategyVerdict choose(String mountedAt, Map<String, LockProvider> providers, ProviderChoice choice) {
        MountTable.Mount mount = mounts.find(Path.of(mountedAt)).orElseThrow();
        return new FilesystemLockStrategy(providers, choice, real -> mount).choose(dir);
    }

    private StrategyVerdict auto(String mountedAt, Map<String, LockProvider> providers) {
        return choose(mountedAt, providers, ProviderChoice.automatic());
    }

    @Test
    void localDisksGetFlockConfirmedByItsProbe() {
        StrategyVerdict ext4 = auto("/srv/data", all());
        assertThat(ext4.providerName()).isEqualTo("flock");
        assertThat(ext4.fileSystemType()).isEqualTo("ext4");
        assertThat(ext4.reason()).contains("local POSIX");
        assertThat(ext4.candidates())
                .extracting(StrategyVerdict.Candidate::outcome)
                .containsExactly(Outcome.CHOSEN, Outcome.NOT_TRIED, Outcome.NOT_TRIED, Outcome.NOT_TRIED);
        assertThat(auto("/tmp/x", all()).providerName()).isEqualTo("flock");
        assertThat(auto("/tmp/x", all()).fileSystemType()).isEqualTo("tmpfs");
    }

    @Test
    void aProbeThatDoesNotExcludeOrAMissingProviderSkipsToTheNextInTheRow() {
        Map<String, LockProvider> p = providers(
                new FakeProvider("flock", true, Verdict.DOES_NOT_EXCLUDE),
                new FakeProvider("ofd", false, Verdict.EXCLUDES),
                ok("exclusive-create"),
                ok("nio"));
        StrategyVerdict v = auto("/srv", p);
        assertThat(v.providerName()).isEqualTo("nio");
        assertThat(v.candidates())
                .extracting(c -> c.provider() + ":" + c.outcome())
                .containsExactly(
                        "flock:DOES_NOT_EXCLUDE", "ofd:UNAVAILABLE", "nio:CHOSEN", "exclusive-create:NOT_TRIED");
        assertThat(auto("/srv", providers(ok("exclusive-create"))).candidates())
                .extracting(c -> c.provider() + ":" + c.outcome())
                .containsExactly(
                        "flock:NOT_INSTALLED", "ofd:NOT_INSTALLED", "nio:NOT_INSTALLED", "exclusive-create:CHOSEN");
    }

    @Test
    void nfsWithWorkingLocksGetsOfdThenFileChannel() {
        assertThat(auto("/mnt/nfs share", all()).providerName()).isEqualTo("ofd");
        Map<String, LockProvider> noOfd = providers(ok("flock"), ok("nio"), ok("exclusive-create"));
        assertThat(auto("/mnt/nfs share", noOfd).providerName()).isEqualTo("nio");
        assertThat(auto("/mnt/nfsflock", all()).providerName()).isEqualTo("ofd");
    }

    @Test
    void nfsWithClientLocalLocksLustreLocalflockGpfsFuseAndUnknownGetExclusiveCreate() {
        for (String at : new String[] {"/mnt/nfs3", "/mnt/nfsall", "/lustre", "/gpfs", "/home/u/remote", "/weird"}) {
            assertThat(auto(at, all()).providerName()).as(at).isEqualTo("exclusive-create");
        }
        assertThat(auto("/lustre2", all()).providerName()).isEqualTo("ofd");
    }

    @Test
    void windowsAndSmbGetFileChannel() {
        MountTable.Mount ntfs = new MountTable.Mount(Path.of("C:/"), "ntfs", "C:", List.of());
        StrategyVerdict v = new FilesystemLockStrategy(all(), ProviderChoice.automatic(), real -> ntfs).choose(dir);
        assertThat(v.providerName()).isEqualTo("nio");
        MountTable.Mount cifs = new MountTable.Mount(Path.of("/mnt/smb"), "cifs", "//srv/share", List.of("vers=3.1.1"));
        assertThat(new FilesystemLockStrategy(all(), ProviderChoice.automatic(), real -> cifs)
                        .choose(dir)
                        .providerName())
                .isEqualTo("nio");
    }

    @Test
    void noWorkingProviderInTheRowIsAnErrorListingEachCandidate() {
        Map<String, LockProvider> p =
                providers(ok("flock"), new FakeProvider("exclusive-create", true, Verdict.UNAVAILABLE));
        assertThatThrownBy(() -> auto("/home/u/remote", p))
                .isInstanceOf(LockProviderException.class)
                .hasMessageContaining("fuse.sshfs")
                .hasMessageContaining("exclusive-create: probe unavailable")
                .hasMessageContaining("-Dlockcache.provider=NAME");
    }

    @Test
    void anExplicitProviderWinsOverTheTable() {
        StrategyVerdict v = choose("/srv", all(), ProviderChoice.named("exclusive-create"));
        assertThat(v.providerName()).isEqualTo("exclusive-create");
        assertThat(v.reason()).startsWith("explicitly chosen");
    }

    @Test
    void anExplicitChoiceTheMountOptionsProveUnsafeIsRefusedWithTheOverride() {
        assertThatThrownBy(() -> choose("/mnt/nfs3", all(), ProviderChoice.named("flock")))
                .isInstanceOf(LockProviderException.class)
                .hasMessageContaining("'nolock'")
                .hasMessageContaining("flock locks stay on this client")
                .hasMessageContaining("[exclusive-create]")
                .hasMessageContaining("-Dlockcache.provider.force=true");
        assertThatThrownBy(() -> choose("/mnt/nfsflock", all(), ProviderChoice.named("flock")))
                .hasMessageContaining("local_lock=flock");
        assertThatThrownBy(() -> choose("/mnt/nfsall", all(), ProviderChoice.named("nio")))
                .hasMessageContaining("fcntl (POSIX/OFD) locks stay on this client");
        assertThatThrownBy(() -> choose("/lustre", all(), ProviderChoice.named("ofd")))
                .hasMessageContaining("localflock");
        // flock goes to... nowhere useful with local_lock=flock, but fcntl still reaches the server there
        assertThat(choose("/mnt/nfsflock", all(), ProviderChoice.named("ofd")).providerName())
                .isEqualTo("ofd");
    }

    @Test
    void theEvidenceJudgesTheMechanismsAProviderHoldsNotItsName() {
        FakeProvider renamedFlock = new FakeProvider("site-flock", true, Verdict.EXCLUDES) {
            @Override
            public Set<Mechanism> mechanisms() {
                return Set.of(Mechanism.FLOCK);
            }
        };
        assertThatThrownBy(() -> choose("/mnt/nfsflock", providers(renamedFlock), ProviderChoice.named("site-flock")))
                .isInstanceOf(LockProviderException.class)
                .hasMessageContaining("flock locks stay on this client");
        FakeProvider composite = new FakeProvider("site-double", true, Verdict.EXCLUDES) {
            @Override
            public Set<Mechanism> mechanisms() {
                return Set.of(Mechanism.FLOCK, Mechanism.OFD);
            }
        };
        // fcntl reaches the server with local_lock=flock, but the composite's flock half would not
        assertThatThrownBy(() -> choose("/mnt/nfsflock", providers(composite), ProviderChoice.named("site-double")))
                .hasMessageContaining("flock locks stay on this client");
        FakeProvider outsideTheTable = new FakeProvider("flock", true, Verdict.EXCLUDES) {
            @Override
            public Set<Mechanism> mechanisms() {
                return Set.of(Mechanism.EXCLUSIVE_CREATE);
            }
        };
        assertThat(choose("/mnt/nfsflock", providers(outsideTheTable), ProviderChoice.named("flock"))
                        .providerName())
                .as("a provider called flock that holds no kernel lock is not refused for flock's reach")
                .isEqualTo("flock");
    }

    @Test
    void theIKnowOverrideUsesARefusedChoiceAndSaysSo() {
        StrategyVerdict v =
                choose("/mnt/nfsall", all(), ProviderChoice.named("flock").withForce());
        assertThat(v.providerName()).isEqualTo("flock");
        assertThat(v.reason()).contains("FORCED").contains("local_lock=all");
    }

    @Test
    void anExplicitProviderWhoseProbeDoesNotExcludeIsRefusedUnlessForced() {
        Map<String, LockProvider> p = providers(new FakeProvider("flock", true, Verdict.DOES_NOT_EXCLUDE));
        assertThatThrownBy(() -> choose("/srv", p, ProviderChoice.named("flock")))
                .hasMessageContaining("did not exclude")
                .hasMessageContaining("lockcache.provider.force");
        assertThat(choose("/srv", p, ProviderChoice.named("flock").withForce()).reason())
                .contains("FORCED");
    }

    @Test
    void anUnknownOrUnavailableExplicitProviderIsNamedWithTheInstalledOnes() {
        assertThatThrownBy(() -> choose("/srv", all(), ProviderChoice.named("zookeeper")))
                .isInstanceOf(LockProviderException.class)
                .hasMessageContaining("'zookeeper'")
                .hasMessageContaining("not installed")
                .hasMessageContaining("exclusive-create");
        Map<String, LockProvider> p = providers(new FakeProvider("ofd", false, Verdict.EXCLUDES));
        assertThatThrownBy(() -> choose("/srv", p, ProviderChoice.named("ofd")))
                .hasMessageContaining("cannot run here: no native library (fake)");
    }

    @Test
    void polyglotInteropAsksForDoubleAndTheEvidenceStillApplies() {
        assertThat(choose("/srv", all(), ProviderChoice.automatic().withInterop())
                        .providerName())
                .isEqualTo("double");
        assertThatThrownBy(() ->
                        choose("/mnt/nfs3", all(), ProviderChoice.automatic().withInterop()))
                .isInstanceOf(LockProviderException.class)
                .hasMessageContaining("double: refused");
    }

    @Test
    void theVerdictIsDecidedOncePerMountAndLoggedOnceAtInfo() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(FilesystemLockStrategy.class);
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        logger.addAppender(events);
        Level before = logger.getLevel();
        logger.setLevel(Level.INFO);
        try {
            FakeProvider flock = ok("flock");
            MountTable.Mount ext4 = mounts.find(Path.of("/srv")).orElseThrow();
            FilesystemLockStrategy strategy =
                    new FilesystemLockStrategy(providers(flock), ProviderChoice.automatic(), real -> ext4);
            Path other = Files.createDirectories(dir.resolve("other"));
            StrategyVerdict first = strategy.choose(dir);
            StrategyVerdict second = strategy.choose(other);
            assertThat(flock.probes.get()).isEqualTo(1);
            assertThat(second.directory()).isEqualTo(other.toRealPath());
            assertThat(second.providerName()).isEqualTo(first.providerName());
            assertThat(events.list).hasSize(1);
            assertThat(events.list.get(0).getLevel()).isEqualTo(Level.INFO);
            assertThat(events.list.get(0).getFormattedMessage())
                    .contains("flock")
                    .contains("local POSIX");
        } finally {
            logger.detachAppender(events);
            logger.setLevel(before);
        }
    }

    @Test
    void describeShowsTheChoiceTheEvidenceAndEachCandidate() {
        String text = auto("/mnt/nfs share", providers(ok("nio"), ok("exclusive-create")))
                .describe();
        assertThat(text)
                .contains(": nio")
                .contains("filesystem: nfs4 (")
                .contains("local_lock=none")
                .contains("- ofd: not installed")
                .contains("- nio: chosen")
                .contains("- exclusive-create: not tried");
    }

    @Test
    void environmentSettingsBecomeAChoice() {
        Map<String, String> props = Map.of("lockcache.provider", " flock ", "lockcache.provider.force", "true");
        Map<String, String> env = Map.of("LOCKCACHE_PROVIDER", "nio", "LOCKCACHE_INTEROP", "TRUE");
        ProviderChoice choice = ProviderChoice.fromEnvironment(props::get, env::get);
        assertThat(choice.provider()).hasValue("flock");
        assertThat(choice.force()).isTrue();
        assertThat(choice.interop()).isTrue();
        assertThat(ProviderChoice.fromEnvironment(k -> null, env::get).provider())
                .hasValue("nio");
        assertThat(ProviderChoice.fromEnvironment(k -> null, k -> null)).isEqualTo(ProviderChoice.automatic());
    }
}
