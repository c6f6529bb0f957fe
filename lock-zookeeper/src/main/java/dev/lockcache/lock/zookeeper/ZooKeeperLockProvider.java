package dev.lockcache.lock.zookeeper;

import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.Mechanism;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Locks on an Apache ZooKeeper ensemble, through one Curator client per provider instance: for fleets whose
 * hosts share files but not trustworthy file locks (NFS {@code nolock}, Lustre, FUSE), or share no filesystem at
 * all. Named {@value #NAME}; used only when asked for by name ({@link #optIn()}), because nothing on disk says
 * that an ensemble is there.
 *
 * <p>A lock path becomes a znode (see {@link ZnodePaths} and {@link ZooKeeperConfig#BASE_PROPERTY}); nothing is
 * written on disk. Exclusive and shared modes; the owner record lives in the contender node's data; the fencing
 * token is the node's creation zxid, which grows across the whole ensemble. A held lock can be lost (session
 * expired, connection suspended past the grace): its handle's loss listeners are told at once and its release
 * throws {@link dev.lockcache.lock.LockLostException}. A holder that must not overlap another one after a pause
 * (a long GC, SIGSTOP) has to hand its fencing token to whatever it writes, which refuses older tokens.
 *
 * <p>One Curator client (and so one session) per provider instance, built on first use and closed with the
 * provider, or at JVM exit for a provider nobody closes.
 *
 * <p>The no-argument constructor (used by {@link java.util.ServiceLoader}) reads {@link
 * ZooKeeperConfig#fromEnvironment()} and connects only on first use; a malformed configuration makes the
 * provider unavailable with the reason, instead of failing discovery of every other provider.
 */
public final class ZooKeeperLockProvider implements LockProvider {

    /** The provider's name. */
    public static final String NAME = "zookeeper";

    private static final Set<LockFeature> FEATURES = EnumSet.of(
            LockFeature.SHARED,
            LockFeature.CROSS_PROCESS,
            LockFeature.CROSS_HOST,
            LockFeature.RELEASED_ON_CRASH,
            LockFeature.BLOCKING_HANDOFF);

    private final ZooKeeperConfig config;
    private final String configProblem;
    private final EnsembleSession session;
    private final LockRecipe recipe;

    /** A provider configured from system properties, environment and configuration file. */
    public ZooKeeperLockProvider() {
        ZooKeeperConfig read;
        String problem = null;
        try {
            read = ZooKeeperConfig.fromEnvironment();
        } catch (IllegalArgumentException e) {
            read = ZooKeeperConfig.defaults();
            problem = "bad zookeeper configuration: " + e.getMessage();
        }
        this.config = read;
        this.configProblem = problem;
        this.session = new EnsembleSession(read);
        this.recipe = new LockRecipe(session, new ZnodePaths(read.root(), read.bases()), NAME, read.connectString());
    }

    /** A provider with an explicit configuration; the caller owns it and closes it. */
    public ZooKeeperLockProvider(ZooKeeperConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("zookeeper configuration must not be null");
        }
        this.config = config;
        this.configProblem = null;
        this.session = new EnsembleSession(config);
        this.recipe =
                new LockRecipe(session, new ZnodePaths(config.root(), config.bases()), NAME, config.connectString());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<LockFeature> features() {
        return FEATURES;
    }

    @Override
    public Set<Mechanism> mechanisms() {
        return Set.of(Mechanism.ZOOKEEPER);
    }

    @Override
    public boolean optIn() {
        return true;
    }

    /** The configuration in use (the defaults when the configured one was malformed). */
    public ZooKeeperConfig config() {
        return config;
    }

    /**
     * Available unless the configuration is malformed; the reason names the ensemble and the connection state
     * ({@code not connected yet}, {@code connected (session 0x...)}, {@code suspended since ...}, {@code session
     * lost since ...}, {@code closed}) without connecting.
     */
    @Override
    public Availability availability() {
        if (configProblem != null) {
            return Availability.unavailable(configProblem);
        }
        return Availability.available(session.describe() + "; root " + config.root()
                + (config.bases().isEmpty() ? ", locks named by absolute path" : ", bases " + config.bases()));
    }

    /**
     * Takes two contenders on a node of this probe's own for {@code directory} and checks that they exclude each
     * other; connects first if needed. The reason ends with the connection state ({@code connected (session
     * 0x...) since ...}); an unreachable ensemble is {@code UNAVAILABLE} with the address and the key to fix.
     */
    @Override
    public ProbeResult probe(Path directory) {
        String type;
        try {
            type = Files.getFileStore(directory).type();
        } catch (IOException e) {
            type = "unknown";
        }
        if (configProblem != null) {
            return new ProbeResult(directory, ProbeResult.Verdict.UNAVAILABLE, type, configProblem);
        }
        try {
            // a name of its own per probe: hosts (and threads) probing one directory at once must not queue
            // behind each other's probe contenders, which made a concurrent probe report "did not exclude"
            String proof = recipe.proveExclusion(directory.resolve(".lockcache-zookeeper-probe-" + UUID.randomUUID()));
            // the state after the probe's round trips, so that `providers` shows the connection it made
            return new ProbeResult(directory, ProbeResult.Verdict.EXCLUDES, type, proof + "; " + session.state());
        } catch (IOException e) {
            return new ProbeResult(directory, ProbeResult.Verdict.UNAVAILABLE, type, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ProbeResult(directory, ProbeResult.Verdict.UNAVAILABLE, type, "interrupted while probing");
        }
    }

    @Override
    public Optional<HeldLock> tryLock(LockRequest request) throws IOException {
        checkConfig();
        ExistingLockFile.judge(request.path(), request.mode());
        return recipe.tryLock(request).map(HeldLock.class::cast);
    }

    /** Queues and waits up to {@code remainingNanos}, woken by a watch on the node ahead. */
    @Override
    public Optional<HeldLock> awaitLock(LockRequest request, long pollNanos, long remainingNanos)
            throws IOException, InterruptedException {
        checkConfig();
        try {
            return recipe.awaitLock(request, remainingNanos).map(HeldLock.class::cast);
        } catch (InterruptedIOException e) {
            if (Thread.interrupted()) { // interrupted while (re)connecting: a plain interrupt for the wait loop
                InterruptedException interrupted = new InterruptedException(e.getMessage());
                interrupted.initCause(e);
                throw interrupted;
            }
            throw e;
        }
    }

    @Override
    public void release(HeldLock lock) throws IOException {
        if (!(lock instanceof ZooKeeperHold hold)) {
            throw new IllegalArgumentException("not a zookeeper lock: " + lock);
        }
        recipe.release(hold);
    }

    @Override
    public LockOwner readOwner(Path lockFile) {
        if (configProblem != null) {
            return new LockOwner.Unreadable(configProblem);
        }
        return recipe.readOwner(lockFile);
    }

    /**
     * Closes the client, which ends its session: every lock still held through this provider is gone from the
     * ensemble and reported lost to its handle. A provider that is never closed (such as the JVM-wide one of {@link
     * dev.lockcache.lock.LockProviders#installed()}) is closed by a shutdown hook when the JVM exits, once it has
     * connected; closing removes the hook. Idempotent.
     */
    @Override
    public void close() {
        session.close();
    }

    /** The session behind this provider, for tests in this package. */
    EnsembleSession session() {
        return session;
    }

    private void checkConfig() throws IOException {
        if (configProblem != null) {
            throw new IOException(configProblem);
        }
    }

    @Override
    public String toString() {
        return "ZooKeeperLockProvider[" + config + "]";
    }
}
