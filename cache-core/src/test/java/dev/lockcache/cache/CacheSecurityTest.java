package dev.lockcache.cache;

import static dev.lockcache.cache.TestData.debris;
import static dev.lockcache.cache.TestData.read;
import static dev.lockcache.cache.TestData.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.spi.DirectoryTrust;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 and 11, cache half: directories the cache did not make are judged, nothing in the cache follows a
 * symlink, an entry is believed only while its identity holds, metadata and sources are bounded, requested paths
 * that are not regular files are refused, a lost lock abandons the publish.
 */
class CacheSecurityTest {

    private static final boolean ROOT = DirectoryTrust.effectiveUid() == 0;

    @TempDir
    Path tmp;

    private final AtomicInteger produced = new AtomicInteger();

    private DatasetCache cache(Path root) {
        return TestData.cache(root)
                .register(DatasetSpec.of(
                        "ds",
                        DatasetSource.producer("good", t -> {
                            produced.incrementAndGet();
                            Files.writeString(t, "good bytes");
                        }),
                        "data.txt"))
                .build();
    }

    private static void chmod(Path p, String mode) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    }

    @Test
    void aRootOrSubdirectoryWritableByOthersIsRefusedWithThePathAndTheFix() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("open-root"));
        chmod(root, "rwxrwxrwx");
        assertThatThrownBy(() -> cache(root).fetch("ds"))
                .isInstanceOf(CacheUnsafePathException.class)
                .hasMessageContaining(root.toString())
                .hasMessageContaining("writable by every user")
                .hasMessageContaining("chmod o-w");
        assertThat(produced).hasValue(0);

        Path root2 = tmp.resolve("root2");
        cache(root2).fetch("ds");
        Path entries = root2.resolve("entries");
        chmod(entries, "rwxrwxrwx");
        assertThatThrownBy(() -> cache(root2).fetch("ds", tmp.resolve("x.txt")))
                .isInstanceOf(CacheUnsafePathException.class)
                .hasMessageContaining(entries.toString());
        chmod(entries, "rwx------");
        Path keyDir = entries.resolve("ds");
        chmod(keyDir, "rwxrwx---");
        assertThatThrownBy(() -> cache(root2).fetch("ds", tmp.resolve("x.txt")))
                .isInstanceOf(CacheUnsafePathException.class)
                .hasMessageContaining(keyDir.toString())
                .hasMessageContaining("writable by its group")
                .hasMessageContaining(DirectoryTrust.GROUP_SHARED_PROPERTY);
        System.setProperty(DirectoryTrust.GROUP_SHARED_PROPERTY, "true");
        try {
            assertThat(read(cache(root2).fetch("ds", tmp.resolve("x.txt")))).isEqualTo("good bytes");
        } finally {
            System.clearProperty(DirectoryTrust.GROUP_SHARED_PROPERTY);
        }
    }

    @Test
    void directoriesOwnedByAnotherAccountAreRefused() throws Exception {
        assumeTrue(ROOT, "needs root to give a directory to another uid (chown)");
        Path root = Files.createDirectory(tmp.resolve("foreign-root"));
        Files.setAttribute(root, "unix:uid", 4242);
        assertThatThrownBy(() -> cache(root).fetch("ds"))
                .isInstanceOf(CacheUnsafePathException.class)
                .hasMessageContaining(root.toString())
                .hasMessageContaining("belongs to user id 4242");

        // the other account swaps entries/ds for a directory of its own with same-size bytes and our metadata
        Path root2 = tmp.resolve("root2");
        cache(root2).fetch("ds");
        Path keyDir = root2.resolve("entries/ds");
        Path forged = Files.createDirectory(root2.resolve("entries/forged"));
        Files.writeString(forged.resolve("data.txt"), "evil bytes");
        Files.copy(keyDir.resolve("entry.properties"), forged.resolve("entry.properties"));
        Files.setAttribute(forged, "unix:uid", 4242);
        Files.move(keyDir, root2.resolve("entries/old"));
        Files.move(forged, keyDir);
        assertThatThrownBy(() -> cache(root2).fetch("ds", tmp.resolve("y.txt"), FetchPolicy.NEVER))
                .isInstanceOf(CacheUnsafePathException.class)
                .hasMessageContaining("belongs to user id 4242");
        assertThat(tmp.resolve("y.txt")).doesNotExist();
    }

    @Test
    void aSwappedEntryDirectoryWithSameSizeBytesAndCopiedMetadataIsNeverReturned() throws Exception {
        Path root = tmp.resolve("root");
        DatasetCache cache = cache(root);
        cache.fetch("ds");
        Path keyDir = root.resolve("entries/ds");
        Path forged = Files.createDirectory(root.resolve("entries/forged"));
        Files.writeString(forged.resolve("data.txt"), "evil bytes"); // same size as "good bytes"
        Files.copy(keyDir.resolve("entry.properties"), forged.resolve("entry.properties"));
        chmod(forged, "rwx------");
        Files.move(keyDir, root.resolve("entries/old"));
        Files.move(forged, keyDir);
        assertThatThrownBy(() -> cache.fetch("ds", tmp.resolve("never.txt"), FetchPolicy.NEVER))
                .isInstanceOf(CacheIntegrityException.class)
                .hasMessageContaining("changed after it was verified");
        assertThat(tmp.resolve("never.txt")).doesNotExist();
        assertThat(read(cache.fetch("ds", tmp.resolve("got.txt")))).isEqualTo("good bytes");
        assertThat(produced).hasValue(2);
    }

    @Test
    void aProgramWritingIntoItsHardLinkMirrorIsCaughtByTheNextFetch() throws Exception {
        Path root = tmp.resolve("root");
        String sha = sha256("good bytes".getBytes(StandardCharsets.UTF_8));
        DatasetCache cache = TestData.cache(root)
                .register(DatasetSpec.of(
                                "ds",
                                DatasetSource.producer("good", t -> {
                                    produced.incrementAndGet();
                                    Files.writeString(t, "good bytes");
                                }),
                                "data.txt")
                        .withSha256(sha))
                .build();
        Path mirror = tmp.resolve("work/data.txt");
        cache.fetch("ds", mirror);
        assertThat(Files.isSameFile(mirror, cache.entryPath("ds"))).isTrue();
        // the owner makes it writable (root needs no chmod) and writes same-size bytes
        if (!ROOT) {
            chmod(mirror, "rw-r--r--");
        }
        Files.writeString(mirror, "evil bytes");
        assertThat(read(cache.entryPath("ds"))).as("the mirror is the entry").isEqualTo("evil bytes");

        // NEVER cannot refetch: it refuses, on a warm path and on a new mirror alike
        assertThatThrownBy(() -> cache.fetch("ds", mirror, FetchPolicy.NEVER))
                .isInstanceOf(CacheIntegrityException.class)
                .hasMessageContaining(sha);
        assertThatThrownBy(() -> cache.fetch("ds", FetchOptions.of(FetchPolicy.NEVER)))
                .isInstanceOf(CacheIntegrityException.class);
        assertThatThrownBy(() -> cache.fetch("ds", tmp.resolve("other/data.txt"), FetchPolicy.NEVER))
                .isInstanceOf(CacheIntegrityException.class);
        assertThat(tmp.resolve("other/data.txt")).doesNotExist();
        assertThat(produced).hasValue(1);

        // IF_MISSING treats it as corruption: refetched, mirror replaced by a link to the new entry
        assertThat(read(cache.fetch("ds", mirror))).isEqualTo("good bytes");
        assertThat(produced).hasValue(2);
        assertThat(Files.isSameFile(mirror, cache.entryPath("ds"))).isTrue();
        // and the new entry's identity was recorded after the link: warm hits need no re-hash or refetch
        assertThat(read(cache.fetch("ds", mirror))).isEqualTo("good bytes");
        assertThat(read(cache.fetch("ds", tmp.resolve("third/data.txt")))).isEqualTo("good bytes");
        assertThat(read(cache.fetch("ds", tmp.resolve("third/data.txt"), FetchPolicy.NEVER)))
                .isEqualTo("good bytes");
        assertThat(produced).hasValue(2);
    }

    @Test
    void aTouchThatKeepsTheBytesIsReHashedAndAccepted() throws Exception {
        Path root = tmp.resolve("root");
        DatasetCache cache = cache(root);
        Path mirror = tmp.resolve("m/data.txt");
        cache.fetch("ds", mirror);
        Files.setLastModifiedTime(cache.entryPath("ds"), java.nio.file.attribute.FileTime.fromMillis(0));
        assertThat(read(cache.fetch("ds", mirror, FetchPolicy.NEVER))).isEqualTo("good bytes");
        assertThat(produced).hasValue(1);
    }

    @Test
    void symlinksPlacedInTheCacheNeverRedirectAWrite() throws Exception {
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        Path victim = Files.writeString(outside.resolve("victim.txt"), "precious");

        // a symlink at entries/KEY
        Path root = tmp.resolve("root");
        Files.createDirectories(root.resolve("entries"));
        chmod(root, "rwx------");
        chmod(root.resolve("entries"), "rwx------");
        Files.createSymbolicLink(root.resolve("entries/ds"), outside);
        assertThatThrownBy(() -> cache(root).fetch("ds"))
                .isInstanceOf(CacheUnsafePathException.class)
                .hasMessageContaining(root.resolve("entries/ds").toString())
                .hasMessageContaining("symbolic link");
        assertThat(outsideListing(outside)).containsExactly("victim.txt");

        // a symlink at the entry file and at entry.properties
        Path root2 = tmp.resolve("root2");
        DatasetCache cache = cache(root2);
        cache.fetch("ds");
        Path keyDir = root2.resolve("entries/ds");
        Files.delete(keyDir.resolve("data.txt"));
        Files.createSymbolicLink(keyDir.resolve("data.txt"), victim);
        Files.delete(keyDir.resolve("entry.properties"));
        Files.createSymbolicLink(keyDir.resolve("entry.properties"), victim);
        assertThat(read(cache.fetch("ds", tmp.resolve("got.txt")))).isEqualTo("good bytes");
        assertThat(Files.isSymbolicLink(keyDir.resolve("data.txt"))).isFalse();
        assertThat(Files.isSymbolicLink(keyDir.resolve("entry.properties"))).isFalse();
        assertThat(read(victim)).isEqualTo("precious");
        assertThat(outsideListing(outside)).containsExactly("victim.txt");
    }

    @Test
    void aMirrorDirectorySwappedForASymlinkMidFetchGetsNothingWritten() throws Exception {
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        Files.writeString(outside.resolve("data.txt"), "precious");
        Path work = Files.createDirectory(tmp.resolve("work"));
        Path mirror = work.resolve("data.txt");
        Files.writeString(work.resolve(EntryLayout.tempName("data.txt")), "debris of a crashed mirror");
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of(
                        "ds",
                        DatasetSource.producer("swapper", t -> {
                            Files.writeString(t, "good bytes");
                            // while the fetch runs, the mirror's directory becomes a symlink to another one
                            Files.move(work, tmp.resolve("work-moved"));
                            Files.createSymbolicLink(work, outside);
                        }),
                        "data.txt"))
                .build();
        assertThatThrownBy(() -> cache.fetch("ds", mirror))
                .isInstanceOf(CacheUnsafePathException.class)
                .hasMessageContaining("was replaced");
        assertThat(outsideListing(outside)).containsExactly("data.txt");
        assertThat(read(outside.resolve("data.txt"))).isEqualTo("precious");
    }

    @Test
    void aHugeOneLineMetadataFileIsIgnoredAndReplacedWithoutReadingIt() throws Exception {
        Path root = tmp.resolve("root");
        DatasetCache cache = cache(root);
        cache.fetch("ds");
        Path metadata = root.resolve("entries/ds/entry.properties");
        Files.delete(metadata);
        try (RandomAccessFile f = new RandomAccessFile(metadata.toFile(), "rw")) {
            f.setLength(100L << 20); // 100 MiB, one "line" of zero bytes
        }
        chmod(metadata, "rw-------");
        assertThatThrownBy(() -> cache.fetch("ds", FetchOptions.of(FetchPolicy.NEVER)))
                .isInstanceOf(CacheOfflineException.class);
        assertThat(read(cache.fetch("ds"))).isEqualTo("good bytes");
        assertThat(Files.size(metadata)).isLessThan(EntryMetadata.MAX_BYTES);
        assertThat(produced).hasValue(2);
    }

    @Test
    void createdFilesAndDirectoriesHaveTheModesOfDirectoryTrust() throws Exception {
        Path root = tmp.resolve("a/root");
        DatasetCache cache = cache(root);
        cache.fetch("ds");
        for (Path dir : List.of(
                tmp.resolve("a"), root, root.resolve("locks"), root.resolve("entries"), root.resolve("entries/ds"))) {
            assertThat(mode(dir)).as("%s", dir).isEqualTo("rwx------");
        }
        assertThat(mode(root.resolve("entries/ds/entry.properties"))).isEqualTo("rw-------");
        assertThat(mode(root.resolve("entries/ds/data.txt"))).isEqualTo("r--r--r--");
    }

    @Test
    void aRequestedPathThatIsNotARegularFileIsRefused() throws Exception {
        DatasetCache cache = cache(tmp.resolve("root"));
        Path fifo = tmp.resolve("fifo");
        assumeTrue(run("mkfifo", fifo.toString()) == 0, "mkfifo is missing");
        assertThatThrownBy(() -> cache.fetch("ds", fifo))
                .isInstanceOf(CacheUnsafePathException.class)
                .hasMessageContaining(fifo.toString())
                .hasMessageContaining("not a regular file");
        assertThat(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS)).isFalse();
        Path link = Files.createSymbolicLink(tmp.resolve("link"), tmp.resolve("elsewhere"));
        assertThatThrownBy(() -> cache.fetch("ds", link)).isInstanceOf(CacheUnsafePathException.class);
        if (ROOT) {
            Path device = tmp.resolve("null-device");
            assumeTrue(run("mknod", device.toString(), "c", "1", "3") == 0, "mknod failed");
            assertThatThrownBy(() -> cache.fetch("ds", device))
                    .isInstanceOf(CacheUnsafePathException.class)
                    .hasMessageContaining("FIFO, socket or device");
            assertThat(Files.isRegularFile(device, LinkOption.NOFOLLOW_LINKS)).isFalse();
        }
        assertThat(produced).hasValue(0);
    }

    @Test
    void aFileSourceStopsOneBytePastTheExpectedSizeAndAFifoSourceIsRefused() throws Exception {
        Path big = tmp.resolve("big.bin");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        List<Long> progress = new ArrayList<>();
        DatasetCache cache = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of("big", DatasetSource.file(big), "big.bin")
                        .withSize(1024))
                .build();
        assertThatThrownBy(() -> cache.fetch(
                        "big", cache.defaultOptions().withProgress((k, bytes, total) -> progress.add(bytes))))
                .isInstanceOf(CacheIntegrityException.class)
                .hasMessageContaining("more than 1024 bytes");
        assertThat(progress).isNotEmpty().allSatisfy(b -> assertThat(b).isLessThanOrEqualTo(1025L));
        assertThat(debris(tmp)).isEmpty();

        Path fifo = tmp.resolve("source-fifo");
        assumeTrue(run("mkfifo", fifo.toString()) == 0, "mkfifo is missing");
        DatasetCache fromFifo = TestData.cache(tmp.resolve("root"))
                .register(DatasetSpec.of("fifo", DatasetSource.file(fifo), "f.bin"))
                .build();
        assertThatThrownBy(() -> fromFifo.fetch("fifo"))
                .isInstanceOf(CacheFetchException.class)
                .hasMessageContaining("not a regular file");
    }

    @Test
    void aLostLockAbandonsThePublishAndKeepsThePreviousEntry() throws Exception {
        Path root = tmp.resolve("root");
        DatasetCache cache = cache(root);
        cache.fetch("ds");
        Path real = root.toRealPath();
        EntryLayout layout = new EntryLayout(real);
        DatasetSpec spec = DatasetSpec.of(
                "ds", DatasetSource.producer("good", t -> Files.writeString(t, "new bytes!")), "data.txt");
        AtomicInteger asked = new AtomicInteger();
        FetchPipeline.LockHold lost = new FetchPipeline.LockHold(
                "exclusive-create",
                Long.MAX_VALUE,
                "me",
                () -> asked.incrementAndGet() > 0 ? Optional.of("lease broken while paused") : Optional.empty());
        FetchPipeline pipeline =
                new FetchPipeline(new SourceFetcher(HttpTimeouts.DEFAULT, dev.lockcache.lock.Ticker.system()));
        assertThatThrownBy(() -> pipeline.fetchLocked(
                        layout, spec, Optional.empty(), FetchOptions.of(FetchPolicy.ALWAYS), Long.MAX_VALUE, lost))
                .isInstanceOf(CacheLockLostException.class)
                .hasMessageContaining("lease broken while paused");
        assertThat(read(cache.entryPath("ds"))).isEqualTo("good bytes");
        assertThat(debris(tmp)).isEmpty();
    }

    @Test
    void buildersShareTheJvmWideProviders() {
        DatasetCache a = cache(tmp.resolve("a"));
        DatasetCache b = cache(tmp.resolve("b"));
        assertThat(a.lockVerdict().provider())
                .isSameAs(b.lockVerdict().provider())
                .isSameAs(LockProviders.installed().get(a.lockVerdict().providerName()));
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    private static List<String> outsideListing(Path dir) throws IOException {
        try (var list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static int run(String... command) {
        try {
            return new ProcessBuilder(command).inheritIO().start().waitFor();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
