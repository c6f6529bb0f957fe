package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.ProbeResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileLocks#discover()} and {@link FileLocks#forDirectory}: an explicit name wins, one available provider
 * wins directly, several are chosen among per lock directory by the strategy (asked once per directory).
 */
class StrategyDiscoveryTest {

    @TempDir
    Path dir;

    /** A provider of the in-memory kind under another name. */
    private static LockProvider named(String name) {
        InMemoryProvider memory = new InMemoryProvider(LockSupport::parkNanos);
        return new LockProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Set<LockFeature> features() {
                return memory.features();
            }

            @Override
            public Availability availability() {
                return memory.availability();
            }

            @Override
            public ProbeResult probe(Path directory) {
                return memory.probe(directory);
            }

            @Override
            public Optional<HeldLock> tryLock(LockRequest request) {
                return memory.tryLock(request);
            }

            @Override
            public void release(HeldLock lock) {
                memory.release(lock);
            }

            @Override
            public LockOwner readOwner(Path lockFile) {
                return memory.readOwner(lockFile);
            }
        };
    }

    /** A strategy that picks {@code local} everywhere except under {@code remoteRoot}, and counts its calls. */
    private static final class ScriptedStrategy implements LockStrategy {
        final LockProvider local;
        final LockProvider remote;
        final Path remoteRoot;
        final List<Path> asked = new ArrayList<>();

        ScriptedStrategy(LockProvider local, LockProvider remote, Path remoteRoot) {
            this.local = local;
            this.remote = remote;
            this.remoteRoot = remoteRoot;
        }

        @Override
        public synchronized StrategyVerdict choose(Path directory) {
            asked.add(directory);
            LockProvider chosen = directory.startsWith(remoteRoot) ? remote : local;
            return new StrategyVerdict(directory, chosen, "scripted", List.of(), "scripted", List.of());
        }
    }

    private Map<String, LockProvider> providers(LockProvider... all) {
        Map<String, LockProvider> byName = new LinkedHashMap<>();
        for (LockProvider p : all) {
            byName.put(p.name(), p);
        }
        return byName;
    }

    @Test
    void severalProvidersAreChosenAmongPerDirectoryByTheStrategy() throws Exception {
        LockProvider local = named("local");
        LockProvider remote = named("remote");
        Path nfs = Files.createDirectories(dir.resolve("nfs")).toRealPath();
        ScriptedStrategy strategy = new ScriptedStrategy(local, remote, nfs);
        FileLocks locks = FileLocks.discover(Optional.empty(), providers(local, remote), strategy);
        try (LockHandle a = locks.acquire(dir.resolve("a.lock"), LockOptions.exclusive());
                LockHandle b = locks.acquire(nfs.resolve("b.lock"), LockOptions.exclusive());
                LockHandle c = locks.acquire(dir.resolve("c.lock"), LockOptions.exclusive())) {
            assertThat(a.provider()).isEqualTo("local");
            assertThat(b.provider()).isEqualTo("remote");
            assertThat(c.provider()).isEqualTo("local");
        }
        assertThat(strategy.asked).as("one question per directory").hasSize(2);
        assertThatThrownBy(locks::provider).isInstanceOf(LockProviderException.class);
        assertThat(locks.provider(nfs.resolve("x.lock"))).isSameAs(remote);
    }

    @Test
    void oneAvailableProviderWinsWithoutAskingTheStrategy() {
        LockProvider only = named("only");
        ScriptedStrategy strategy = new ScriptedStrategy(named("never"), named("never"), dir);
        FileLocks locks = FileLocks.discover(Optional.empty(), providers(only), strategy);
        assertThat(locks.provider()).isSameAs(only);
        assertThat(strategy.asked).isEmpty();
    }

    @Test
    void anExplicitNameWins() {
        LockProvider local = named("local");
        LockProvider remote = named("remote");
        ScriptedStrategy strategy = new ScriptedStrategy(local, local, dir);
        FileLocks locks = FileLocks.discover(Optional.of("remote"), providers(local, remote), strategy);
        assertThat(locks.provider()).isSameAs(remote);
        assertThatThrownBy(() -> FileLocks.discover(Optional.of("missing"), providers(local, remote), strategy))
                .isInstanceOf(LockProviderException.class)
                .hasMessageContaining("missing")
                .hasMessageContaining("local");
    }

    @Test
    void forDirectoryCreatesTheDirectoryAndUsesTheStrategysChoice() throws Exception {
        LockProvider local = named("local");
        LockProvider remote = named("remote");
        Path nfs = dir.toRealPath().resolve("mnt");
        ScriptedStrategy strategy = new ScriptedStrategy(local, remote, nfs);
        FileLocks locks = FileLocks.forDirectory(nfs.resolve("locks"), strategy);
        assertThat(Files.isDirectory(nfs.resolve("locks"))).isTrue();
        assertThat(locks.provider()).isSameAs(remote);
    }

    @Test
    void theStandardStrategyPicksAWorkingProviderForARealDirectory() {
        // lock-api's own tests install one provider (the create-new test provider); the strategy's table has no
        // row naming it, so the standard strategy must refuse rather than guess, and say what it tried.
        assertThatThrownBy(() -> FileLocks.forDirectory(dir))
                .isInstanceOf(LockProviderException.class)
                .hasMessageContaining("flock");
    }
}
