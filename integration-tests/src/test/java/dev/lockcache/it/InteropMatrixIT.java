package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which of our kernel-lock providers exclude which real peers, both ways: a peer holds and our {@code
 * tryAcquire} must fail (or may succeed), and we hold and the peer's non-blocking attempt must fail (or may
 * succeed). The peers are util-linux {@code flock(1)} and Python's {@code fcntl.flock}, {@code fcntl.lockf}
 * and {@code F_OFD_SETLK}. The measured matrix is written to {@code target/interop-matrix.md} and must equal
 * {@link #EXPECTED} exactly, so a provider that stops (or starts) excluding a peer fails here.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class InteropMatrixIT {

    /** How one peer and one provider relate on a local filesystem. */
    enum Relation {
        /** Each blocks the other. */
        EXCLUDES,
        /** Neither sees the other's lock. */
        INDEPENDENT,
        /** Only a peer's lock blocks us. */
        PEER_BLOCKS_US_ONLY,
        /** Only our lock blocks the peer. */
        WE_BLOCK_PEER_ONLY;

        static Relation of(boolean peerBlocksUs, boolean weBlockPeer) {
            if (peerBlocksUs && weBlockPeer) {
                return EXCLUDES;
            }
            if (!peerBlocksUs && !weBlockPeer) {
                return INDEPENDENT;
            }
            return peerBlocksUs ? PEER_BLOCKS_US_ONLY : WE_BLOCK_PEER_ONLY;
        }
    }

    /** A locker that lockcache did not write. */
    enum Peer {
        FLOCK_1("util-linux flock(1)"),
        PYTHON_FLOCK("Python fcntl.flock"),
        PYTHON_LOCKF("Python fcntl.lockf"),
        PYTHON_OFD("Python fcntl F_OFD_SETLK");

        final String label;

        Peer(String label) {
            this.label = label;
        }
    }

    /**
     * The truth on Linux (ext4, tmpfs): flock(2) locks and fcntl record locks are separate kernel lists that
     * never see each other; classic fcntl (lockf, FileChannel) and OFD locks are one list and conflict.
     */
    static final Map<Peer, Map<String, Relation>> EXPECTED = Map.of(
            Peer.FLOCK_1, row(Relation.EXCLUDES, Relation.INDEPENDENT, Relation.INDEPENDENT, Relation.EXCLUDES),
            Peer.PYTHON_FLOCK, row(Relation.EXCLUDES, Relation.INDEPENDENT, Relation.INDEPENDENT, Relation.EXCLUDES),
            Peer.PYTHON_LOCKF, row(Relation.INDEPENDENT, Relation.EXCLUDES, Relation.EXCLUDES, Relation.EXCLUDES),
            Peer.PYTHON_OFD, row(Relation.INDEPENDENT, Relation.EXCLUDES, Relation.EXCLUDES, Relation.EXCLUDES));

    private static Map<String, Relation> row(Relation flock, Relation nio, Relation ofd, Relation dbl) {
        Map<String, Relation> row = new LinkedHashMap<>();
        row.put("flock", flock);
        row.put("nio", nio);
        row.put("ofd", ofd);
        row.put("double", dbl);
        return row;
    }

    @TempDir
    Path dir;

    private Path peerScript;

    @Test
    void providersAndPeersExcludeEachOtherExactlyAsExpected() throws Exception {
        Tools.flockCommand();
        Tools.python();
        peerScript = Tools.script(dir, "peer_lock.py");
        Map<Peer, Map<String, Relation>> measured = new LinkedHashMap<>();
        for (Peer peer : Peer.values()) {
            Map<String, Relation> row = new LinkedHashMap<>();
            for (String provider : Tools.KERNEL_PROVIDERS) {
                row.put(provider, measure(peer, provider));
            }
            measured.put(peer, row);
        }
        String markdown = markdown(measured);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "interop-matrix.md"), markdown);
        System.out.println(markdown);
        assertThat(measured).as("measured interop matrix:%n%s", markdown).isEqualTo(EXPECTED);
    }

    private Relation measure(Peer peer, String providerName) throws Exception {
        FileLocks locks = FileLocks.using(Tools.provider(providerName));
        Path lock = dir.resolve(peer.name().toLowerCase() + "-" + providerName + ".lock");

        boolean peerBlocksUs;
        try (ChildJvm holder = ChildJvm.external(holdCommand(peer, lock))) {
            holder.expect("HELD");
            Optional<LockHandle> ours = locks.tryAcquire(lock, LockMode.EXCLUSIVE);
            peerBlocksUs = ours.isEmpty();
            ours.ifPresent(LockHandle::close);
            holder.send("release");
            assertThat(holder.awaitExit())
                    .as("%s holder exit; printed %s", peer, holder.transcript())
                    .isZero();
        }
        try (LockHandle after = locks.acquire(lock, Duration.ZERO)) {
            assertThat(after.isOpen())
                    .as("%s: ours after the peer released", providerName)
                    .isTrue();
        }

        boolean weBlockPeer;
        try (LockHandle ignored = locks.acquire(lock, Duration.ofSeconds(30))) {
            weBlockPeer = !peerTry(peer, lock);
        }
        assertThat(peerTry(peer, lock))
                .as("%s after %s released", peer.label, providerName)
                .isTrue();
        return Relation.of(peerBlocksUs, weBlockPeer);
    }

    private List<String> holdCommand(Peer peer, Path lock) {
        return switch (peer) {
            case FLOCK_1 -> List.of(Tools.FLOCK.toString(), "-x", lock.toString(), "sh", "-c", "echo HELD; read line");
            case PYTHON_FLOCK -> python("flock", lock, "hold");
            case PYTHON_LOCKF -> python("lockf", lock, "hold");
            case PYTHON_OFD -> python("ofd", lock, "hold");
        };
    }

    /** One non-blocking attempt by the peer: true if it got (and released) the lock. */
    private boolean peerTry(Peer peer, Path lock) throws IOException, InterruptedException {
        if (peer == Peer.FLOCK_1) {
            int exit = Tools.run(List.of(Tools.FLOCK.toString(), "-n", "-E", "75", lock.toString(), "true"));
            assertThat(exit).as("flock -n exit code (0 acquired, 75 conflict)").isIn(0, 75);
            return exit == 0;
        }
        String kind = peer == Peer.PYTHON_FLOCK ? "flock" : peer == Peer.PYTHON_LOCKF ? "lockf" : "ofd";
        try (ChildJvm attempt = ChildJvm.external(python(kind, lock, "try"))) {
            String answer = attempt.expect("");
            assertThat(attempt.awaitExit())
                    .as("%s try; printed %s", peer, attempt.transcript())
                    .isZero();
            assertThat(answer).isIn("ACQUIRED", "BUSY");
            return answer.equals("ACQUIRED");
        }
    }

    private List<String> python(String kind, Path lock, String action) {
        return List.of(Tools.PYTHON.toString(), peerScript.toString(), kind, lock.toString(), action);
    }

    static String markdown(Map<Peer, Map<String, Relation>> matrix) {
        List<String> lines = new ArrayList<>();
        lines.add("| peer holds / tries \\ lockcache provider | " + String.join(" | ", Tools.KERNEL_PROVIDERS) + " |");
        lines.add("| --- |" + " --- |".repeat(Tools.KERNEL_PROVIDERS.size()));
        matrix.forEach((peer, row) -> {
            StringBuilder line = new StringBuilder("| " + peer.label + " |");
            row.values().forEach(r -> line.append(' ').append(cell(r)).append(" |"));
            lines.add(line.toString());
        });
        return String.join("\n", lines) + "\n";
    }

    private static String cell(Relation relation) {
        return switch (relation) {
            case EXCLUDES -> "excludes (both ways)";
            case INDEPENDENT -> "independent";
            case PEER_BLOCKS_US_ONLY -> "peer blocks us only";
            case WE_BLOCK_PEER_ONLY -> "we block the peer only";
        };
    }
}
