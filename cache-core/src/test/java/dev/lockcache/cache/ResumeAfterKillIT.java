package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.debris;
import static dev.lockcache.cache.TestData.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A child JVM downloading a dataset is killed with SIGKILL part-way; a fetch from another process (this one)
 * resumes the partial file it left, and the server sends only the missing bytes. The child tells how far the
 * file has grown through its progress lines (the handshake); the server stalls at the cut so the child cannot get
 * further before the kill.
 */
class ResumeAfterKillIT {

    private static final int SIZE = 32 * 1024 * 1024;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(ints = {60, 90})
    void aFetchKilledPartWayIsResumedByTheNextProcess(int percent) throws Exception {
        byte[] body = new byte[SIZE];
        new SplittableRandom(percent).nextBytes(body);
        String sha = sha256(body);
        long cut = (long) SIZE * percent / 100;
        Path root = tmp.resolve("root");
        try (RangeServer server = new RangeServer(body)) {
            server.stallNextAt.set(cut);
            try (ChildJvm child = ChildJvm.start(
                    FetchChild.class,
                    "progress",
                    root.toString(),
                    server.uri("/data").toString(),
                    sha,
                    tmp.resolve("child/big.bin").toString())) {
                // the file holds at least everything but the last write buffer's worth before the stall
                long threshold = cut - HttpDownloader.WRITE_BUFFER;
                while (true) {
                    String line = child.expect("progress ");
                    if (Long.parseLong(line.substring("progress ".length())) >= threshold) {
                        break;
                    }
                }
                child.kill();
            }
            server.release.countDown();
            DatasetCache cache = TestData.cache(root)
                    .httpTimeouts(HttpTimeouts.of(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMinutes(2)))
                    .register(DatasetSpec.of("big", DatasetSource.url(server.uri("/data")), "big.bin")
                            .withSha256(sha))
                    .build();
            Path kept = cache.entryPath("big").resolveSibling(PartialDownload.fileName("big.bin"));
            long keptBytes = Files.size(kept);
            assertThat(keptBytes)
                    .isGreaterThanOrEqualTo(cut - HttpDownloader.WRITE_BUFFER)
                    .isLessThanOrEqualTo(cut);
            assertThat(cache.entryPath("big")).doesNotExist();

            long before = server.sentOfData();
            Path out = cache.fetch("big", tmp.resolve("work/big.bin"));
            long resumed = server.sentOfData() - before;

            assertThat(Files.readAllBytes(out)).isEqualTo(body);
            List<RangeServer.Seen> requests = server.dataRequests();
            assertThat(requests.get(requests.size() - 1).range()).isEqualTo("bytes=" + keptBytes + "-");
            assertThat(resumed).isEqualTo(SIZE - keptBytes);
            double share = 100.0 * resumed / SIZE;
            System.out.printf(
                    "resume after a kill at %d%%: the second fetch transferred %.1f%% of the file%n", percent, share);
            assertThat(share).isLessThanOrEqualTo(percent == 60 ? 45.0 : 15.0);
            assertThat(kept).doesNotExist();
            assertThat(debris(tmp)).isEmpty();
        }
    }
}
