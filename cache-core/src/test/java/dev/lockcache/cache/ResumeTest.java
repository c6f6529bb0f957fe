package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.debris;
import static dev.lockcache.cache.TestData.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A download that stops short leaves a partial file beside the entry (never at it), and the next fetch resumes it
 * with {@code Range} + {@code If-Range} when the server allows and the version is the same; otherwise it starts
 * over. The digest always covers the whole file; nothing of two versions is ever published.
 */
class ResumeTest {

    private static final int SIZE = 3 * 1024 * 1024 + 123;
    private static final long CUT = SIZE * 6L / 10;

    @TempDir
    Path tmp;

    private byte[] v1;
    private byte[] v2;
    private RangeServer server;

    @BeforeEach
    void start() throws Exception {
        v1 = new byte[SIZE];
        new SplittableRandom(1).nextBytes(v1);
        v2 = new byte[SIZE];
        new SplittableRandom(2).nextBytes(v2);
        server = new RangeServer(v1);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private DatasetCache cache(byte[] expected) {
        return TestData.cache(tmp.resolve("root"))
                .httpTimeouts(HttpTimeouts.of(Duration.ofSeconds(5), Duration.ofSeconds(20), Duration.ofSeconds(60)))
                .register(DatasetSpec.of("big", DatasetSource.url(server.uri("/data")), "big.bin")
                        .withSha256(sha256(expected)))
                .build();
    }

    private Path partial(DatasetCache cache) {
        return cache.entryPath("big").resolveSibling(PartialDownload.fileName("big.bin"));
    }

    /** The first fetch loses its connection at 60%: a clear error, a partial file, no entry. */
    private DatasetCache cutFirstFetch(byte[] expected) {
        DatasetCache cache = cache(expected);
        server.cutNextAt.set(CUT);
        assertThatThrownBy(() -> cache.fetch("big", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("'big'")
                .hasMessageContaining(server.uri("/data").toString());
        assertThat(cache.entryPath("big")).doesNotExist();
        assertThat(tmp.resolve("out.bin")).doesNotExist();
        assertThat(partial(cache)).hasSize(CUT);
        assertThat(cache.entry("big")).isEmpty();
        assertThat(debris(tmp)).isEmpty();
        return cache;
    }

    private void assertVerified(DatasetCache cache, byte[] expected) throws Exception {
        assertThat(Files.readAllBytes(tmp.resolve("out.bin"))).isEqualTo(expected);
        assertThat(Files.readAllBytes(cache.entryPath("big"))).isEqualTo(expected);
        assertThat(cache.entry("big").orElseThrow().sha256()).isEqualTo(sha256(expected));
        assertThat(partial(cache)).doesNotExist();
        assertThat(partial(cache).resolveSibling(PartialDownload.sidecarName("big.bin")))
                .doesNotExist();
        assertThat(debris(tmp)).isEmpty();
    }

    @Test
    void aDroppedConnectionIsResumedWithRangeAndTheEtag() throws Exception {
        DatasetCache cache = cutFirstFetch(v1);
        long before = server.sentOfData();
        cache.fetch("big", tmp.resolve("out.bin"));
        assertVerified(cache, v1);
        List<RangeServer.Seen> requests = server.dataRequests();
        assertThat(requests).hasSize(2);
        RangeServer.Seen resumed = requests.get(1);
        assertThat(resumed.range()).isEqualTo("bytes=" + CUT + "-");
        assertThat(resumed.ifRange()).isEqualTo("\"v1\"");
        assertThat(resumed.status()).isEqualTo(206);
        assertThat(server.sentOfData() - before).isEqualTo(SIZE - CUT);
    }

    @Test
    void withoutAnEtagTheLastModifiedDateIsTheValidator() throws Exception {
        server.etag = null;
        DatasetCache cache = cutFirstFetch(v1);
        cache.fetch("big", tmp.resolve("out.bin"));
        assertVerified(cache, v1);
        assertThat(server.dataRequests().get(1).ifRange()).isEqualTo(server.lastModified);
        assertThat(server.dataRequests().get(1).status()).isEqualTo(206);
    }

    @Test
    void aServerWithoutRangeSupportStartsOver() throws Exception {
        server.ranges = false;
        DatasetCache cache = cutFirstFetch(v1);
        long before = server.sentOfData();
        cache.fetch("big", tmp.resolve("out.bin"));
        assertVerified(cache, v1);
        assertThat(server.dataRequests().get(1).status()).isEqualTo(200);
        assertThat(server.sentOfData() - before).isEqualTo(SIZE);
    }

    @Test
    void aChangedValidatorStartsOverAndNeverSplicesTwoVersions() throws Exception {
        DatasetCache first = cutFirstFetch(v2);
        server.body = v2;
        server.etag = "\"v2\"";
        first.fetch("big", tmp.resolve("out.bin"));
        assertVerified(first, v2);
        assertThat(server.dataRequests().get(1).ifRange()).isEqualTo("\"v1\"");
        assertThat(server.dataRequests().get(1).status())
                .as("If-Range with the old ETag gets the whole new version")
                .isEqualTo(200);
    }

    @Test
    void aServerThatIgnoresIfRangeIsCaughtByItsValidatorAndRestarted() throws Exception {
        server.ignoreIfRange = true;
        DatasetCache cache = cutFirstFetch(v2);
        server.body = v2;
        server.etag = "\"v2\"";
        cache.fetch("big", tmp.resolve("out.bin"));
        assertVerified(cache, v2);
        List<RangeServer.Seen> requests = server.dataRequests();
        assertThat(requests).hasSize(3);
        assertThat(requests.get(1).status())
                .as("the server answered the stale range")
                .isEqualTo(206);
        assertThat(requests.get(2).range()).as("then a whole GET").isNull();
        assertThat(requests.get(2).status()).isEqualTo(200);
    }

    @Test
    void bytesThatDoNotVerifyAfterAResumeAreNeverPublishedAndTheNextFetchStartsOver() throws Exception {
        DatasetCache cache = cutFirstFetch(v1);
        // a lying server: other bytes under the same ETag; the splice cannot be told by headers, only by the digest
        server.body = v2;
        assertThatThrownBy(() -> cache.fetch("big", tmp.resolve("out.bin")))
                .isInstanceOf(CacheIntegrityException.class)
                .hasMessageContaining(sha256(v1));
        assertThat(cache.entryPath("big")).doesNotExist();
        assertThat(partial(cache)).doesNotExist();
        assertThat(debris(tmp)).isEmpty();
        server.body = v1;
        cache.fetch("big", tmp.resolve("out.bin"));
        assertVerified(cache, v1);
        assertThat(server.dataRequests().get(2).range()).isNull();
    }

    @Test
    void aRangeBeyondTheEndOfWhatTheServerHasNowStartsOver() throws Exception {
        byte[] shorter = java.util.Arrays.copyOf(v1, (int) (CUT / 2));
        DatasetCache cache = cutFirstFetch(shorter);
        server.body = shorter; // same ETag, fewer bytes than kept: the server answers 416
        cache.fetch("big", tmp.resolve("out.bin"));
        assertVerified(cache, shorter);
        assertThat(server.dataRequests()).extracting(RangeServer.Seen::status).containsExactly(200, 416, 200);
    }

    @Test
    void aFailedRefreshKeepsThePreviousEntryBesideItsPartialDownload() throws Exception {
        DatasetCache cache = cache(v1);
        cache.fetch("big", tmp.resolve("out.bin"));
        server.cutNextAt.set(CUT);
        assertThatThrownBy(() -> cache.fetch("big", tmp.resolve("out.bin"), FetchPolicy.ALWAYS))
                .isInstanceOf(CacheFetchException.class);
        assertThat(Files.readAllBytes(cache.entryPath("big"))).isEqualTo(v1);
        assertThat(Files.readAllBytes(tmp.resolve("out.bin"))).isEqualTo(v1);
        assertThat(partial(cache)).hasSize(CUT);
        cache.fetch("big", tmp.resolve("out.bin"), FetchPolicy.ALWAYS);
        assertVerified(cache, v1);
        assertThat(server.dataRequests().get(2).status()).isEqualTo(206);
    }

    @Test
    void anIdleTimeoutKeepsWhatArrivedForTheNextFetch() throws Exception {
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .httpTimeouts(HttpTimeouts.of(Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofSeconds(60)))
                .register(DatasetSpec.of("big", DatasetSource.url(server.uri("/data")), "big.bin")
                        .withSha256(sha256(v1)))
                .build();
        server.stallNextAt.set(CUT);
        assertThatThrownBy(() -> cache.fetch("big", tmp.resolve("out.bin")))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("idle timeout");
        assertThat(partial(cache)).hasSize(CUT);
        server.release.countDown();
        cache.fetch("big", tmp.resolve("out.bin"));
        assertVerified(cache, v1);
        assertThat(server.dataRequests().get(1).range()).isEqualTo("bytes=" + CUT + "-");
    }

    @Test
    void removePartialDownloadsTakesOnlyOldOnesOfKeysNotBeingFetched() throws Exception {
        DatasetCache cache = cutFirstFetch(v1);
        assertThat(cache.removePartialDownloads(Duration.ofHours(1))).isEmpty();
        assertThat(partial(cache)).exists();
        Files.setLastModifiedTime(partial(cache), FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        assertThat(cache.removePartialDownloads(Duration.ofHours(1))).containsExactly(partial(cache));
        assertThat(partial(cache)).doesNotExist();
        assertThat(partial(cache).resolveSibling(PartialDownload.sidecarName("big.bin")))
                .doesNotExist();
        cache.fetch("big", tmp.resolve("out.bin"));
        assertVerified(cache, v1);
        assertThat(server.dataRequests().get(1).range()).isNull();
    }

    @Test
    void aPartialFileOfAnotherOwnerOrWithTwoLinksIsNotResumed() throws Exception {
        DatasetCache cache = cutFirstFetch(v1);
        Files.createLink(tmp.resolve("second-link"), partial(cache));
        cache.fetch("big", tmp.resolve("out.bin"));
        assertVerified(cache, v1);
        assertThat(server.dataRequests().get(1).range()).isNull();
        assertThat(tmp.resolve("second-link")).hasSize(CUT);
    }
}
