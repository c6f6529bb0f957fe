package dev.lockcache.cli;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;

/**
 * One server of the ensemble that {@code lockcache demo --zookeeper} starts ({@link DemoEnsemble}), in a JVM of its
 * own: ZooKeeper's own {@code QuorumPeerMain} on the configuration file given as the only argument. It ends when its
 * standard input closes, so a demo that dies (even by {@code kill -9}) leaves no server behind; and when the server
 * itself fails (status 1, {@code QuorumPeerMain}'s own exit).
 *
 * <p>{@code QuorumPeerMain} ships in the runnable jar (the ZooKeeper artifact the {@code zookeeper} provider needs
 * holds client and server), but the CLI is compiled without it: it is started by name, its public {@code main}.
 */
public final class DemoEnsembleServer {

    /** ZooKeeper's server entry point. */
    static final String QUORUM_PEER_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

    private DemoEnsembleServer() {}

    public static void main(String[] args) throws ReflectiveOperationException {
        if (args.length != 1) {
            System.err.println("usage: DemoEnsembleServer ZOO.CFG");
            System.exit(ExitCode.USAGE);
        }
        var serverMain = Class.forName(QUORUM_PEER_MAIN).getMethod("main", String[].class);
        Thread server = new Thread(
                () -> {
                    try {
                        serverMain.invoke(null, (Object) args);
                    } catch (InvocationTargetException e) {
                        System.err.println("zookeeper server failed: " + e.getCause());
                        Runtime.getRuntime().halt(ExitCode.FAILURE);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(QUORUM_PEER_MAIN + ".main is not public", e);
                    }
                },
                "demo-zookeeper-server");
        server.setDaemon(true);
        server.start();
        InputStream stdin = System.in;
        try {
            while (stdin.read() >= 0) {
                // the demo writes nothing; only the end of the stream matters
            }
        } catch (IOException e) {
            // the demo's end of the pipe is gone: the same as EOF
        }
        Runtime.getRuntime().halt(ExitCode.OK); // no orderly shutdown needed: the data directory is thrown away
    }
}
