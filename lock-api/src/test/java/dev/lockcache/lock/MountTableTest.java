package dev.lockcache.lock;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MountTableTest {

    /** Lines in the format of /proc/self/mountinfo, one per filesystem kind the strategy tells apart. */
    static final String FIXTURE = String.join(
            "\n",
            "22 27 0:21 / /proc rw,relatime - proc proc rw",
            "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard",
            "40 27 0:50 / /mnt/nfs\\040share rw,relatime shared:7 - nfs4 srv:/export rw,vers=4.2,local_lock=none,addr=10.0.0.1",
            "41 27 0:51 / /mnt/nfs3 rw,relatime - nfs srv:/old rw,vers=3,nolock,addr=10.0.0.2",
            "42 27 0:52 / /mnt/nfsflock rw - nfs srv:/x rw,vers=3,local_lock=flock",
            "43 27 0:53 / /mnt/nfsall rw - nfs4 srv:/y rw,vers=4.1,local_lock=all",
            "44 27 0:54 / /lustre rw - lustre 10.0.0.3@tcp:/fs rw,localflock",
            "45 27 0:55 / /lustre2 rw - lustre 10.0.0.3@tcp:/fs2 rw,flock",
            "46 27 0:56 / /home/u/remote rw,nosuid,nodev master:3 shared:9 - fuse.sshfs u@host:/ rw,user_id=0",
            "47 27 0:57 / /tmp rw - tmpfs tmpfs rw",
            "48 47 0:58 / /tmp/inner rw - ext4 /dev/sdb rw",
            "garbage line without the separator",
            "49 27 0:59 / /weird rw - weirdfs none rw",
            "50 27 0:60 / /gpfs rw - gpfs gpfs0 rw");

    private final MountTable table = MountTable.parse(FIXTURE);

    private MountTable.Mount at(String path) {
        return table.find(Path.of(path)).orElseThrow();
    }

    @Test
    void escapedSpacesInMountPointsAreUndone() {
        MountTable.Mount nfs = at("/mnt/nfs share/cache");
        assertThat(nfs.mountPoint()).isEqualTo(Path.of("/mnt/nfs share"));
        assertThat(nfs.type()).isEqualTo("nfs4");
        assertThat(nfs.source()).isEqualTo("srv:/export");
        assertThat(MountTable.unescape("a\\011b\\134c\\012")).isEqualTo("a\tb\\c\n");
    }

    @Test
    void mountAndSuperblockOptionsAreMerged() {
        MountTable.Mount nfs = at("/mnt/nfs3/x");
        assertThat(nfs.options()).contains("relatime", "vers=3", "nolock");
        assertThat(nfs.options()).containsOnlyOnce("rw");
        assertThat(nfs.has("nolock")).isTrue();
        assertThat(at("/mnt/nfsflock").value("local_lock")).hasValue("flock");
        assertThat(at("/mnt/nfs share").value("local_lock")).hasValue("none");
    }

    @Test
    void theLongestMountPointWinsComponentWise() {
        assertThat(at("/tmp/inner/cache").type()).isEqualTo("ext4");
        assertThat(at("/tmp/inner").type()).isEqualTo("ext4");
        assertThat(at("/tmp/innerx").type()).isEqualTo("tmpfs");
        assertThat(at("/procfs/data").type()).isEqualTo("ext4");
        assertThat(at("/proc/1").type()).isEqualTo("proc");
    }

    @Test
    void optionalFieldsAndMalformedLinesAreHandled() {
        assertThat(at("/home/u/remote/data").type()).isEqualTo("fuse.sshfs");
        assertThat(table.mounts()).hasSize(13);
    }

    @Test
    void aLaterMountOnTheSamePointHidesTheEarlierOne() {
        MountTable stacked =
                MountTable.parse("27 1 254:0 / / rw - ext4 /dev/vda rw\n" + "60 27 0:61 / /data rw - ext4 /dev/sdc rw\n"
                        + "61 60 0:62 / /data rw - nfs4 srv:/data rw,local_lock=none\n");
        assertThat(stacked.find(Path.of("/data/x")).orElseThrow().type()).isEqualTo("nfs4");
    }

    @Test
    void thisProcessHasAMountTableOnLinux() {
        if (!System.getProperty("os.name").startsWith("Linux")) {
            assertThat(MountTable.system()).isEmpty();
            return;
        }
        MountTable own = MountTable.system().orElseThrow();
        assertThat(own.find(Path.of("/")).orElseThrow().mountPoint()).isEqualTo(Path.of("/"));
    }
}
