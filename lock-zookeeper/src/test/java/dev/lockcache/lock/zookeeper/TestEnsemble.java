package dev.lockcache.lock.zookeeper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.client.FourLetterWordMain;

/** A three-server ensemble on loopback whose leader a test can kill. */
interface TestEnsemble extends AutoCloseable {

    String connectString();

    /** Kills the server that says it leads; returns how (for messages). */
    String killLeader() throws Exception;

    @Override
    void close() throws Exception;

    /** curator-test's cluster, all servers in this JVM; the leader is shut down, not killed. */
    static TestEnsemble inProcess() throws Exception {
        TestingCluster cluster = new TestingCluster(TestZooKeeper.ensembleSpecs(3));
        cluster.start();
        return new TestEnsemble() {
            @Override
            public String connectString() {
                return cluster.getConnectString();
            }

            @Override
            public String killLeader() throws Exception {
                for (InstanceSpec spec : cluster.getInstances()) {
                    if (leads(spec.getPort())) {
                        if (!cluster.killServer(spec)) {
                            throw new AssertionError("could not stop server " + spec.getServerId());
                        }
                        return "in-process server " + spec.getServerId() + " shut down";
                    }
                }
                throw new AssertionError("no server of the ensemble says it leads");
            }

            @Override
            public void close() throws IOException {
                cluster.close();
            }

            @Override
            public String toString() {
                return "in-process ensemble";
            }
        };
    }

    /** Three {@code QuorumPeerMain} child JVMs; the leader gets SIGKILL. */
    static TestEnsemble separateProcesses(Path dir) throws Exception {
        List<int[]> ports = new ArrayList<>(); // client, quorum, election
        for (int i = 0; i < 3; i++) {
            ports.add(
                    new int[] {InstanceSpec.getRandomPort(), InstanceSpec.getRandomPort(), InstanceSpec.getRandomPort()
                    });
        }
        StringBuilder servers = new StringBuilder();
        StringBuilder connect = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            servers.append("server.")
                    .append(i + 1)
                    .append("=127.0.0.1:")
                    .append(ports.get(i)[1])
                    .append(':')
                    .append(ports.get(i)[2])
                    .append('\n');
            connect.append(i == 0 ? "" : ",").append("127.0.0.1:").append(ports.get(i)[0]);
        }
        List<Process> processes = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Path data = Files.createDirectories(dir.resolve("zk" + (i + 1)));
                Files.writeString(data.resolve("myid"), Integer.toString(i + 1));
                Path cfg = Files.writeString(
                        data.resolve("zoo.cfg"),
                        "tickTime=" + TestZooKeeper.TICK_MS + "\ninitLimit=10\nsyncLimit=5\ndataDir=" + data
                                + "\nclientPort=" + ports.get(i)[0] + "\nclientPortAddress=127.0.0.1\n"
                                + "admin.enableServer=false\n4lw.commands.whitelist=srvr\nforceSync=no\n"
                                + servers);
                processes.add(new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java")
                                        .toString(),
                                "-Xmx96m",
                                "-XX:TieredStopAtLevel=1",
                                "-cp",
                                System.getProperty("java.class.path"),
                                "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                                cfg.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(data.resolve("server.log").toFile())
                        .start());
            }
            String connectString = connect.toString();
            awaitQuorum(connectString, ports);
            return new TestEnsemble() {
                @Override
                public String connectString() {
                    return connectString;
                }

                @Override
                public String killLeader() throws Exception {
                    for (int i = 0; i < 3; i++) {
                        if (leads(ports.get(i)[0])) {
                            Process leader = processes.get(i);
                            leader.destroyForcibly(); // SIGKILL
                            leader.waitFor();
                            return "server " + (i + 1) + " (pid " + leader.pid() + ") killed with SIGKILL";
                        }
                    }
                    throw new AssertionError("no server of the ensemble says it leads");
                }

                @Override
                public void close() throws InterruptedException {
                    stop(processes);
                }

                @Override
                public String toString() {
                    return "ensemble of three processes";
                }
            };
        } catch (Exception | AssertionError e) {
            stop(processes);
            throw e;
        }
    }

    private static void awaitQuorum(String connect, List<int[]> ports) throws Exception {
        try (CuratorFramework client = CuratorFrameworkFactory.newClient(connect, new RetryOneTime(100))) {
            client.start();
            if (!client.blockUntilConnected(2, TimeUnit.MINUTES)) {
                throw new AssertionError("the ensemble " + connect + " never served a client");
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (true) { // the quorum serves; wait until all three have joined it
            int serving = 0;
            for (int[] port : ports) {
                String mode = mode(port[0]);
                if (mode.contains("Mode: leader") || mode.contains("Mode: follower")) {
                    serving++;
                }
            }
            if (serving == ports.size()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("only " + serving + " of the servers joined the quorum");
            }
            Thread.yield();
        }
    }

    private static void stop(List<Process> processes) throws InterruptedException {
        for (Process process : processes) {
            process.destroyForcibly();
        }
        for (Process process : processes) {
            process.waitFor();
        }
    }

    private static boolean leads(int clientPort) {
        return mode(clientPort).contains("Mode: leader");
    }

    private static String mode(int clientPort) {
        try {
            return FourLetterWordMain.send4LetterWord("127.0.0.1", clientPort, "srvr");
        } catch (Exception e) {
            return "";
        }
    }
}
