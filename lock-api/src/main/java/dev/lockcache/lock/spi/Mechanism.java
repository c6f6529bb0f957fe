package dev.lockcache.lock.spi;

import java.util.Set;

/**
 * The closed set of locking mechanisms lockcache knows, with the one table of which excludes which. Every
 * warning about a peer that does not exclude us and every strategy decision asks this table; no provider name
 * appears in such logic.
 *
 * <p>The table (Linux; other POSIX systems behave like the {@link Scope#LOCAL} column):
 *
 * <table>
 *   <caption>Which mechanisms exclude which</caption>
 *   <tr><th></th><th>local filesystem</th><th>NFS (working lockd / NFSv4)</th></tr>
 *   <tr><td>FLOCK</td><td>FLOCK</td><td>FLOCK, FCNTL, OFD (the client turns flock into whole-file fcntl
 *       locks unless mounted with {@code local_lock=flock|all})</td></tr>
 *   <tr><td>FCNTL</td><td>FCNTL, OFD</td><td>FCNTL, OFD, FLOCK</td></tr>
 *   <tr><td>OFD</td><td>OFD, FCNTL</td><td>OFD, FCNTL, FLOCK</td></tr>
 *   <tr><td>EXCLUSIVE_CREATE</td><td>EXCLUSIVE_CREATE</td><td>EXCLUSIVE_CREATE</td></tr>
 *   <tr><td>ZOOKEEPER</td><td>ZOOKEEPER</td><td>ZOOKEEPER</td></tr>
 * </table>
 */
public enum Mechanism {
    /** BSD {@code flock(2)}: per open file description, whole file. */
    FLOCK,
    /** Classic POSIX {@code fcntl} record locks ({@code F_SETLK}; Java's {@code FileChannel.lock}). */
    FCNTL,
    /** Linux open-file-description {@code fcntl} locks ({@code F_OFD_SETLK}). */
    OFD,
    /** An owner record created atomically ({@code O_EXCL} or {@code link(2)}). */
    EXCLUSIVE_CREATE,
    /** A lock node on an Apache ZooKeeper ensemble. */
    ZOOKEEPER;

    /**
     * The mechanisms held by lockcache's own providers, by the provider name their owner records carry (the one
     * place these names meet the table); empty for a name lockcache does not ship.
     */
    public static Set<Mechanism> ofProvider(String providerName) {
        return switch (providerName) {
            case "flock" -> Set.of(FLOCK);
            case "nio" -> Set.of(FCNTL);
            case "ofd" -> Set.of(OFD);
            case "double" -> Set.of(FLOCK, FCNTL);
            case "exclusive-create" -> Set.of(EXCLUSIVE_CREATE);
            case "zookeeper" -> Set.of(ZOOKEEPER);
            default -> Set.of();
        };
    }

    /** Where two processes meet on a lock file. */
    public enum Scope {
        /** A local filesystem of one kernel. */
        LOCAL,
        /** A network filesystem whose locks go through the server (NFS lockd, NFSv4). */
        NFS
    }

    /** Whether a lock taken with this mechanism excludes one taken with {@code other} on the same path. */
    public boolean excludes(Mechanism other, Scope scope) {
        if (this == other) {
            return true;
        }
        Set<Mechanism> posix = Set.of(FLOCK, FCNTL, OFD);
        if (!posix.contains(this) || !posix.contains(other)) {
            return false;
        }
        if (scope == Scope.NFS) {
            return true;
        }
        return this != FLOCK && other != FLOCK; // locally flock is its own lock space; fcntl and OFD share one
    }

    /**
     * Whether a provider built on {@code ours} excludes every process that uses one built on {@code theirs}:
     * some mechanism of ours excludes some mechanism of theirs. A composite ({@code double}) holds all of its
     * mechanisms at once, so one match is enough.
     */
    public static boolean exclude(Set<Mechanism> ours, Set<Mechanism> theirs, Scope scope) {
        for (Mechanism mine : ours) {
            for (Mechanism other : theirs) {
                if (mine.excludes(other, scope)) {
                    return true;
                }
            }
        }
        return false;
    }
}
