package dev.lockcache.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.spi.DirectoryTrust;
import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Child processes under another umask, and a cache root mounted read-only (issue 10 item 6, issue 11 item 3). */
class CacheSecurityIT {

    @TempDir
    Path tmp;

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String childJvm(String... args) {
        StringBuilder command = new StringBuilder("exec '" + java() + "' -Xmx128m -XX:TieredStopAtLevel=1 -cp '"
                + System.getProperty("java.class.path") + "' " + FetchChild.class.getName());
        for (String arg : args) {
            command.append(" '").append(arg).append('\'');
        }
        return command.toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"000", "002"})
    void theUmaskChangesNoModeTheCacheSets(String umask) throws Exception {
        Path root = tmp.resolve("parent/root");
        try (ChildJvm child = ChildJvm.external(List.of(
                "sh",
                "-c",
                "umask " + umask + "; "
                        + childJvm(
                                "produce",
                                root.toString(),
                                tmp.resolve("work/f.txt").toString())))) {
            assertThat(child.expect("ok")).isEqualTo("ok");
            assertThat(child.awaitExit()).isZero();
        }
        for (Path dir : List.of(
                tmp.resolve("parent"),
                root,
                root.resolve("locks"),
                root.resolve("entries"),
                root.resolve("entries/fixed"))) {
            assertThat(mode(dir)).as("%s under umask %s", dir, umask).isEqualTo("rwx------");
        }
        assertThat(mode(root.resolve("entries/fixed/entry.properties"))).isEqualTo("rw-------");
        assertThat(mode(root.resolve("entries/fixed/fixed.txt"))).isEqualTo("r--r--r--");
    }

    @Test
    void aDefaultAclChangesNoModeTheCacheSets() throws Exception {
        Path parent = Files.createDirectory(tmp.resolve("acl"));
        int rc = CacheSecurityTest.run("setfacl", "-d", "-m", "u::rwx,g::rwx,o::rwx", parent.toString());
        assumeTrue(rc == 0, "setfacl is missing (apt package acl) or the filesystem has no ACLs");
        Path root = parent.resolve("root");
        TestData.cache(root).register(FetchChild.fixedSpec(false)).build().fetch("fixed", tmp.resolve("w/f.txt"));
        for (Path dir : List.of(root, root.resolve("locks"), root.resolve("entries"), root.resolve("entries/fixed"))) {
            assertThat(mode(dir)).as("%s under a default ACL", dir).isEqualTo("rwx------");
        }
        assertThat(mode(root.resolve("entries/fixed/entry.properties"))).isEqualTo("rw-------");
    }

    @Test
    void aReadOnlyCacheServesVerifiedEntriesWithoutALockAndRefusesToFetch() throws Exception {
        assumeTrue(DirectoryTrust.effectiveUid() == 0, "needs root for a read-only bind mount (unshare -m)");
        assumeTrue(CacheSecurityTest.run("unshare", "-m", "true") == 0, "unshare -m is missing or not permitted");
        Path root = tmp.resolve("root");
        TestData.cache(root).register(FetchChild.fixedSpec(false)).build().fetch("fixed", tmp.resolve("seed/f.txt"));
        Path work = Files.createDirectory(tmp.resolve("work"));
        String script = "mount --bind '" + root + "' '" + root + "' && mount -o remount,bind,ro '" + root + "' '" + root
                + "' && " + childJvm("readonly", root.toString(), work.toString());
        try (ChildJvm child =
                ChildJvm.external(List.of("unshare", "-m", "--propagation", "private", "sh", "-c", script))) {
            assertThat(child.expect("entry ")).isEqualTo("entry ok fixed bytes");
            assertThat(child.expect("mirror ")).isEqualTo("mirror ok fixed bytes");
            assertThat(child.expect("never ")).isEqualTo("never ok fixed bytes");
            assertThat(child.expect("always ")).startsWith("always error").contains("cannot write the cache root");
            assertThat(child.awaitExit()).isZero();
        }
        assertThat(Files.readString(work.resolve("mirror.txt"))).isEqualTo("fixed bytes");
        assertThat(work.resolve("always.txt")).doesNotExist();
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }
}
