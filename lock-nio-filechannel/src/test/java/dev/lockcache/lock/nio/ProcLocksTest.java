package dev.lockcache.lock.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.spi.FileIdentity;
import java.io.RandomAccessFile;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcLocksTest {
    @TempDir
    Path dir;

    @Test
    void decodesDeviceNumbersAsLinuxPrintsThem() {
        assertThat(ProcLocks.major(0xfe00)).isEqualTo(0xfe);
        assertThat(ProcLocks.minor(0xfe00)).isZero();
        // makedev(259, 70000) in glibc's encoding
        long device = ((259L & 0xfff) << 8) | ((259L & ~0xfffL) << 32) | (70000L & 0xff) | ((70000L & ~0xffL) << 12);
        assertThat(ProcLocks.major(device)).isEqualTo(259);
        assertThat(ProcLocks.minor(device)).isEqualTo(70000);
    }

    @Test
    void confirmsOnlyALockThisProcessReallyHolds() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/locks")), "needs Linux's /proc/locks");
        Path held = Files.createFile(dir.resolve("held.lock"));
        Path free = Files.createFile(dir.resolve("free.lock"));
        try (RandomAccessFile file = new RandomAccessFile(held.toFile(), "rw")) {
            FileIdentity heldId = FcntlMechanism.lstat(held).orElseThrow();
            FileIdentity freeId = FcntlMechanism.lstat(free).orElseThrow();
            assertThat(ProcLocks.listsLocksOf(dir))
                    .as("a local filesystem's locks are listed")
                    .isTrue();
            assertThat(ProcLocks.instance().confirms(heldId, false)).isFalse();
            FileLock lock = file.getChannel().lock();
            assertThat(ProcLocks.instance().confirms(heldId, false)).isTrue();
            assertThat(ProcLocks.instance().confirms(heldId, true))
                    .as("held exclusive, not shared")
                    .isFalse();
            assertThat(ProcLocks.instance().confirms(freeId, false)).isFalse();
            lock.release();
            assertThat(ProcLocks.instance().confirms(heldId, false)).isFalse();
        }
    }
}
