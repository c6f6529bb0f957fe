package dev.lockcache.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The ZooKeeper ensemble of {@code lockcache demo --zookeeper}: three servers ({@link DemoEnsembleServer}, each in
 * its own JVM on this class path) on loopback ports chosen free, with their data in a scratch directory. {@link
 * #start} returns once every server answers ZooKeeper's {@code srvr} command as leader or follower, so the
 * ensemble has a quorum and serves clients. {@link #close} ends them all (they also end by themselves when this JVM
 * goes away: their standard input closes).
 *
 * <p>This class names no ZooKeeper type: the servers' classes are loaded only in the servers' JVMs, never by a
 * command of this JVM.
 */
final class DemoEnsemble implements AutoCloseable {

    /** Servers in the ensemble: the smallest that keeps a quorum when one fails. */
    static final int SERVERS = 3;

    /** The servers' tick: sessions may be 2 to 20 ticks (1 to 10 s). */
    static final int TICK_MILLIS = 500;

    /** One server: its id, its client port, the file its output goes to, and its JVM. */
    private record Server(int id, int clientPort, Path log, Process process) {}

    /**
     * What the demo reports about an ensemble: its connect string, how many servers it lists, which one leads (as
     * {@code srvr} says), whether the demo started it, and the root znode of this run's locks.
     */
    record Description(String connectString, int servers, String leader, boolean embedded, String root) {}

    private final List<Server> servers;

    private DemoEnsemble(List<Server> servers) {
        this.servers = servers;
    }

    /**
     * Starts the ensemble with its data and logs under {@code dir} and waits, up to {@code patience}, until every
     * server serves as leader or follower.
     *
     * @throws CommandFailure if a server exits or the ensemble does not form in time (with the servers' output)
     */
    static DemoEnsemble start(Path dir, Duration patience) throws IOException, InterruptedException {
        requireServerClasses();
        int[] ports = freeLoopbackPorts(3 * SERVERS);
        StringBuilder members = new StringBuilder();
        for (int id = 1; id <= SERVERS; id++) {
            int quorum = ports[SERVERS + 2 * (id - 1)];
            int election = ports[SERVERS + 2 * (id - 1) + 1];
            members.append("server.")
                    .append(id)
                    .append("=127.0.0.1:")
                    .append(quorum)
                    .append(':')
                    .append(election)
                    .append('\n');
        }
        List<Server> started = new ArrayList<>();
        DemoEnsemble ensemble = new DemoEnsemble(started);
        try {
            for (int id = 1; id <= SERVERS; id++) {
                Path data = Files.createDirectories(dir.resolve("server-" + id));
                Files.writeString(data.resolve("myid"), id + "\n");
                Path config = dir.resolve("server-" + id + ".cfg");
                Files.writeString(
                        config,
                        "tickTime=" + TICK_MILLIS + "\ninitLimit=20\nsyncLimit=10\n"
                                + "dataDir=" + data + "\n"
                                + "clientPort=" + ports[id - 1] + "\nclientPortAddress=127.0.0.1\n"
                                + "maxClientCnxns=0\n"
                                // the default provider needs Dropwizard metrics, which the runnable jar leaves out
                                + "metricsProvider.className=org.apache.zookeeper.metrics.impl.NullMetricsProvider\n"
                                + members);
                Path log = dir.resolve("server-" + id + ".log");
                List<String> command = ChildJava.command(DemoEnsembleServer.class);
                command.addAll(
                        1,
                        List.of(
                                "-Xmx128m",
                                "-XX:TieredStopAtLevel=1",
                                "-Dzookeeper.admin.enableServer=false",
                                "-Dzookeeper.4lw.commands.whitelist=srvr",
                                "-Dzookeeper.forceSync=no", // throw-away data: no fsync per transaction
                                "-Dzookeeper.jmx.log4j.disable=true"));
                command.add(config.toString());
                Process process = new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
                started.add(new Server(id, ports[id - 1], log, process));
            }
            ensemble.awaitQuorum(patience);
            return ensemble;
        } catch (IOException | InterruptedException | RuntimeException e) {
            ensemble.close();
            throw e;
        }
    }

    /**
     * Fails with what to do when this build cannot run a ZooKeeper server: the server's classes come with the
     * provider's ZooKeeper artifact, but its metrics library ({@code io.dropwizard.metrics:metrics-core}, which
     * ZooKeeper declares {@code provided}) must be on the class path too. Looks the classes up without initialising
     * them.
     */
    private static void requireServerClasses() {
        for (String name : List.of(DemoEnsembleServer.QUORUM_PEER_MAIN, "com.codahale.metrics.Reservoir")) {
            try {
                Class.forName(name, false, DemoEnsemble.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new CommandFailure(
                        ExitCode.FAILURE,
                        "this lockcache build cannot start a ZooKeeper server (" + name + " is missing: the runnable"
                                + " jar needs org.apache.zookeeper:zookeeper and io.dropwizard.metrics:metrics-core);"
                                + " run the demo on an ensemble of yours with --zookeeper HOST:PORT instead");
            }
        }
    }

    /** {@code 127.0.0.1:PORT,...} of every server. */
    String connectString() {
        return servers.stream().map(s -> "127.0.0.1:" + s.clientPort()).collect(Collectors.joining(","));
    }

    /** What the demo reports: the connect string and which server leads now; {@code root} of the locks. */
    Description describe(String root) {
        return new Description(connectString(), SERVERS, leader(), true, root);
    }

    /** {@code server N (127.0.0.1:PORT)} of the server that answers {@code srvr} as leader, or why none does. */
    String leader() {
        for (Server server : servers) {
            if (mode(server.clientPort()).filter("leader"::equals).isPresent()) {
                return "server " + server.id() + " (127.0.0.1:" + server.clientPort() + ")";
            }
        }
        return "none answers as leader right now";
    }

    /** Which server leads an ensemble we did not start, if any answers {@code srvr} (it may be disallowed). */
    static Description describeExternal(String connectString, String root) {
        String leader = "unknown (no server answered 'srvr'; it may not be in 4lw.commands.whitelist)";
        for (String member : connectString.replaceFirst("/.*$", "").split(",")) {
            int colon = member.lastIndexOf(':');
            if (colon < 0) {
                continue;
            }
            try {
                int port = Integer.parseInt(member.substring(colon + 1).strip());
                String host = member.substring(0, colon).strip();
                Optional<String> mode = mode(host, port).filter(m -> m.equals("leader") || m.equals("standalone"));
                if (mode.isPresent()) {
                    leader = member.strip() + " (" + mode.get() + ")";
                    break;
                }
            } catch (NumberFormatException e) {
                // not HOST:PORT: skip it
            }
        }
        return new Description(connectString, connectString.split(",").length, leader, false, root);
    }

    private void awaitQuorum(Duration patience) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        long pause = 20;
        while (true) {
            int serving = 0;
            for (Server server : servers) {
                if (!server.process().isAlive()) {
                    throw new CommandFailure(
                            ExitCode.FAILURE,
                            "ZooKeeper server " + server.id() + " of the demo ensemble exited ("
                                    + server.process().exitValue() + "): " + tail(server.log()));
                }
                if (mode(server.clientPort())
                        .filter(m -> m.equals("leader") || m.equals("follower"))
                        .isPresent()) {
                    serving++;
                }
            }
            if (serving == SERVERS) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new CommandFailure(
                        ExitCode.FAILURE,
                        "the demo's ZooKeeper ensemble did not form within " + patience.toSeconds() + " s; server 1: "
                                + tail(servers.get(0).log()));
            }
            TimeUnit.MILLISECONDS.sleep(pause); // polling servers we started; nothing to wait on instead
            pause = Math.min(200, pause * 2);
        }
    }

    private static Optional<String> mode(int port) {
        return mode("127.0.0.1", port);
    }

    /** The {@code Mode:} line of a server's answer to {@code srvr}, or empty when it does not answer. */
    private static Optional<String> mode(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 2000);
            socket.setSoTimeout(2000);
            OutputStream out = socket.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(in.readNBytes(16 * 1024), StandardCharsets.UTF_8);
            for (String line : answer.split("\n")) {
                if (line.startsWith("Mode: ")) {
                    return Optional.of(line.substring("Mode: ".length()).strip());
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Reserves {@code n} distinct free loopback ports (released again just before the servers bind them). */
    private static int[] freeLoopbackPorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket socket = new ServerSocket();
                held.add(socket);
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : held) {
                socket.close();
            }
        }
    }

    /** The last lines of a server's output, for an error message. */
    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    /** Ends every server and reaps it. */
    @Override
    public void close() throws InterruptedException {
        for (Server server : servers) {
            server.process().destroy();
        }
        for (Server server : servers) {
            if (!server.process().waitFor(10, TimeUnit.SECONDS)) {
                server.process().destroyForcibly();
                server.process().waitFor();
            }
        }
    }
}
