package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.debris;
import static dev.lockcache.cache.TestData.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several JVMs share one cache root: one fetch between them all, and a crash inside the lock leaves nothing stuck. */
class CrossProcessFetchIT {

    private static final Duration LIVENESS = Duration.ofSeconds(120);

    @TempDir
    Path tmp;

    @Test
    void childJvmsFetchingTheSameDatasetAtOnceCauseOneRequest() throws Exception {
        assertThat(fetchFromChildren(FetchPolicy.IF_MISSING)).isEqualTo(1);
    }

    @Test
    void childJvmsRefreshingAtOnceCauseAtMostTwoRequests() throws Exception {
        assertThat(fetchFromChildren(FetchPolicy.ALWAYS)).isBetween(1, 2);
    }

    /** Three JVMs fetch one dataset under {@code policy} at once; returns the number of HTTP requests. */
    private int fetchFromChildren(FetchPolicy policy) throws Exception {
        byte[] body = new byte[500_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i % 251);
        }
        String sha = sha256(body);
        Path root = tmp.resolve("root");
        int children = 3;
        try (LoopbackServer server = new LoopbackServer(body)) {
            server.gate = new CountDownLatch(1);
            List<ChildJvm> jvms = new ArrayList<>();
            try {
                for (int i = 0; i < children; i++) {
                    jvms.add(ChildJvm.start(
                            FetchChild.class,
                            "fetch",
                            root.toString(),
                            server.uri("/gated").toString(),
                            sha,
                            tmp.resolve("work-" + i + "/body.bin").toString(),
                            policy.name()));
                }
                for (ChildJvm jvm : jvms) {
                    jvm.expect("ready");
                }
                for (ChildJvm jvm : jvms) {
                    jvm.send("go");
                }
                for (ChildJvm jvm : jvms) {
                    jvm.expect("fetching");
                }
                // every child is inside fetch(); only now may the first request that got through answer
                server.gate.countDown();
                for (ChildJvm jvm : jvms) {
                    assertThat(jvm.expect("")).isEqualTo("ok " + sha);
                    assertThat(jvm.awaitExit()).isZero();
                }
            } finally {
                for (ChildJvm jvm : jvms) {
                    jvm.close();
                }
            }
            for (int i = 0; i < children; i++) {
                assertThat(Files.readAllBytes(tmp.resolve("work-" + i + "/body.bin")))
                        .isEqualTo(body);
            }
            assertThat(debris(tmp)).isEmpty();
            return server.requests.get();
        }
    }

    @Test
    void aProcessThatDiesInsideTheLockLeavesNothingThatBlocksOrLingers() throws Exception {
        Path root = tmp.resolve("root");
        Path target = tmp.resolve("work/data.txt");
        try (ChildJvm crash = ChildJvm.start(FetchChild.class, "crash", root.toString(), target.toString())) {
            crash.expect("writing");
            assertThat(crash.awaitExit()).isEqualTo(17);
        }
        assertThat(debris(root.resolve("entries")))
                .as("the crashed fetch's temp file")
                .hasSize(1);
        DatasetCache cache = TestData.cache(root)
                .register(DatasetSpec.of(
                        "crashy",
                        DatasetSource.producer("completes", t -> Files.writeString(t, "all of it")),
                        "data.txt"))
                .build();
        Path got = cache.fetch("crashy", target);
        assertThat(Files.readString(got)).isEqualTo("all of it");
        assertThat(debris(tmp)).isEmpty();
    }
}
