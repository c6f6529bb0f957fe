package dev.lockcache.lock.flock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.KernelLockProvider;
import dev.lockcache.lock.spi.OwnerRecordSlot;
import dev.lockcache.lock.testkit.ChildJvm;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import jnr.constants.platform.Errno;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlockLockProviderTest {

    @TempDir
    Path dir;

    @BeforeEach
    void needsFlock() {
        assumeTrue(
                NativeFlock.availability().available(),
                NativeFlock.availability().reason());
    }

    private static String childTry(String provider, Path path) throws Exception {
        try (ChildJvm child = ChildJvm.lockChild(provider, "try", path.toString(), "EXCLUSIVE")) {
            String line = child.expect("");
            child.awaitExit();
            return line.split(" ")[0];
        }
    }

    @Test
    void errnoIsMappedToAClearException() {
        Path path = Path.of("/locks/x.lock");
        for (Errno unsupported : new Errno[] {Errno.ENOLCK, Errno.ENOSYS, Errno.EOPNOTSUPP}) {
            IOException e = NativeFlock.failure("flock", path, unsupported.intValue());
            assertThat(e)
                    .isInstanceOf(FileSystemException.class)
                    .hasMessageContaining("/locks/x.lock")
                    .hasMessageContaining(Errno.valueOf(unsupported.intValue()).name())
                    .hasMessageContaining("does not support flock");
        }
        assertThat(NativeFlock.failure("open", path, Errno.EACCES.intValue()))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageContaining("EACCES");
        assertThat(NativeFlock.failure("open", path, Errno.ENOENT.intValue())).isInstanceOf(NoSuchFileException.class);
        assertThat(NativeFlock.failure("flock", path, Errno.EBADF.intValue()))
                .hasMessageContaining("flock failed with EBADF")
                .hasMessageContaining("/locks/x.lock");
        assertThat(NativeFlock.failure("flock", path, 99999)).hasMessageContaining("99999");
    }

    @Test
    void tenThousandLockFilesDoNotGrowDescriptorsBeyondTheBound() throws Exception {
        FlockLockProvider provider;
        System.setProperty(KernelLockProvider.IDLE_LIMIT_PROPERTY, "32");
        try {
            provider = new FlockLockProvider();
        } finally {
            System.clearProperty(KernelLockProvider.IDLE_LIMIT_PROPERTY);
        }
        FileLocks locks = FileLocks.using(provider);
        long before = openDescriptors();
        for (int i = 0; i < 10_000; i++) {
            try (LockHandle ignored = locks.acquire(dir.resolve("many-" + i + ".lock"), Duration.ZERO)) {
                assertThat(provider.openLockFiles()).isLessThanOrEqualTo(33);
            }
        }
        assertThat(provider.openLockFiles()).isEqualTo(32);
        // 32 lock files plus their one directory
        assertThat(openDescriptors() - before).isLessThanOrEqualTo(32 + 1);
        provider.close();
        assertThat(openDescriptors() - before).isLessThanOrEqualTo(0);
    }

    @Test
    void theHeldDescriptorIsInheritableAndNamesTheLockFile() throws Exception {
        FileLocks locks = FileLocks.using(new FlockLockProvider());
        Path path = dir.resolve("inherit.lock");
        try (LockHandle handle = locks.acquire(path, Duration.ZERO)) {
            int fd = handle.inheritableDescriptor().orElseThrow();
            assertThat(Path.of("/proc/self/fd/" + fd).toRealPath()).isEqualTo(path.toRealPath());
        }
    }

    @Test
    void waitsBlockInTheCallersThreadWokenByTheJdksSignal() {
        assertThat(dev.lockcache.lock.spi.NativeWait.usable())
                .as("the JDK catches its I/O wake-up signal here, so flock waits need no helper thread")
                .isTrue();
    }

    @Test
    void sharedHoldersCoexistAndGetTheCurrentGeneration() throws Exception {
        FileLocks locks = FileLocks.using(new FlockLockProvider());
        Path path = dir.resolve("shared.lock");
        long exclusive;
        try (LockHandle handle = locks.acquire(path, Duration.ZERO)) {
            exclusive = handle.fencingToken();
        }
        try (LockHandle shared = locks.acquire(path, LockOptions.shared(Duration.ZERO));
                ChildJvm child = ChildJvm.lockChild("flock", "try", path.toString(), "SHARED")) {
            assertThat(shared.fencingToken()).isEqualTo(exclusive);
            assertThat(child.expect("")).startsWith("ACQUIRED " + exclusive);
            assertThat(childTry("flock", path)).isEqualTo("BUSY");
        }
    }

    @Test
    void aPreviousRecordOfAnotherMechanismIsReportedAndGenerationsContinue() throws Exception {
        Path path = dir.resolve("mixed.lock");
        OwnerRecord foreign = OwnerRecord.forThisProcess("exclusive-create", LockMode.EXCLUSIVE, 41, "");
        Files.write(path, foreign.encode().bytes());
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(OwnerRecordSlot.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        logger.addAppender(seen);
        try {
            FileLocks locks = FileLocks.using(new FlockLockProvider());
            try (LockHandle handle = locks.acquire(path, Duration.ZERO)) {
                assertThat(handle.fencingToken()).isEqualTo(42);
            }
            try (LockHandle handle = locks.acquire(path, Duration.ZERO)) {
                assertThat(handle.fencingToken()).isEqualTo(43);
            }
        } finally {
            logger.detachAppender(seen);
        }
        assertThat(seen.list)
                .filteredOn(e -> e.getFormattedMessage().contains("exclusive-create"))
                .hasSize(1);
    }

    private static long openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
