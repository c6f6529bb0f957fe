package dev.lockcache.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TransientIoTest {

    private static final Path PATH = Path.of("/cache/entries/k/f.bin");

    /** A step that fails with {@code failure} for its first {@code failures} calls, then returns "done". */
    private static TransientIo.Step<String> failing(int failures, IOException failure, AtomicInteger calls) {
        return () -> {
            if (calls.incrementAndGet() <= failures) {
                throw failure;
            }
            return "done";
        };
    }

    @Test
    void busyStaleAndTextFileBusyAreRetriedUntilTheyPass() {
        for (String reason : new String[] {"Device or resource busy", "Stale file handle", "Text file busy"}) {
            AtomicInteger calls = new AtomicInteger();
            FileSystemException busy = new FileSystemException(PATH.toString(), null, reason);
            assertThat(TransientIo.retry("publish entry", PATH, failing(2, busy, calls), false))
                    .isEqualTo("done");
            assertThat(calls.get()).as(reason).isEqualTo(3);
        }
    }

    @Test
    void aWindowsSharingViolationIsRetried() {
        AtomicInteger calls = new AtomicInteger();
        IOException sharing = new FileSystemException(
                PATH.toString(),
                null,
                "The process cannot access the file because it is being used by another process");
        assertThat(TransientIo.retry("replace mirror", PATH, failing(3, sharing, calls), true))
                .isEqualTo("done");
        AtomicInteger denied = new AtomicInteger();
        assertThat(TransientIo.retry(
                        "replace mirror", PATH, failing(1, new AccessDeniedException(PATH.toString()), denied), true))
                .isEqualTo("done");
        assertThat(denied.get()).isEqualTo(2);
    }

    @Test
    void accessDeniedOnPosixFailsAtOnceWithThePathAndAHint() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> TransientIo.retry(
                        "publish entry", PATH, failing(5, new AccessDeniedException(PATH.toString()), calls), false))
                .isInstanceOf(CacheIOException.class)
                .hasMessageContaining("publish entry failed for " + PATH)
                .hasMessageContaining("permissions")
                .hasMessageContaining("LOCKCACHE_HOME");
        assertThat(calls.get()).isEqualTo(1);
    }

    @Test
    void readOnlyAndFullFilesystemsFailAtOnceWithAHint() {
        AtomicInteger ro = new AtomicInteger();
        assertThatThrownBy(() -> TransientIo.retry(
                        "publish entry",
                        PATH,
                        failing(5, new FileSystemException(PATH.toString(), null, "Read-only file system"), ro),
                        false))
                .hasMessageContaining("mounted read-only");
        AtomicInteger full = new AtomicInteger();
        assertThatThrownBy(() -> TransientIo.retry(
                        "publish entry",
                        PATH,
                        failing(5, new FileSystemException(PATH.toString(), null, "No space left on device"), full),
                        false))
                .hasMessageContaining("full or over quota");
        assertThat(ro.get() + full.get()).isEqualTo(2);
    }

    @Test
    void aFailureThatStaysTransientGivesUpAfterTheLastAttempt() {
        AtomicInteger calls = new AtomicInteger();
        FileSystemException busy = new FileSystemException(PATH.toString(), null, "Device or resource busy");
        assertThatThrownBy(() -> TransientIo.retry("publish entry", PATH, failing(100, busy, calls), false))
                .isInstanceOf(CacheIOException.class)
                .hasMessageContaining("transient error " + TransientIo.ATTEMPTS + " times");
        assertThat(calls.get()).isEqualTo(TransientIo.ATTEMPTS);
    }
}
