package dev.lockcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockcache.lock.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * A peer that unlinks the lock file while holding it (as Maven Resolver's file lock does on close) must not
 * split the counters across inodes: three JVMs each add 1 to a counter file {@value #INCREMENTS} times with a
 * non-atomic read-then-write under the lock, through the same path, while a fourth deletes the lock file
 * again and again. No increment may be lost and no two holders may meet in the critical section.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DeletedLockFileIT {

    static final int COUNTERS = 3;
    static final int INCREMENTS = 100;
    static final List<String> PROVIDERS = Tools.KERNEL_PROVIDERS;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @FieldSource("PROVIDERS")
    void aDeleterNeverCausesALostUpdate(String provider) throws Exception {
        Tools.provider(provider);
        Path lock = dir.resolve("locks").resolve("counter.lock");
        Path counter = dir.resolve("counter");
        Path stop = dir.resolve("stop");
        Files.createDirectories(lock.getParent());
        List<ChildJvm> counters = new ArrayList<>();
        try (ChildJvm deleter = ChildJvm.start(DeleterChild.class, provider, lock.toString(), stop.toString())) {
            deleter.expect("STARTED");
            try {
                for (int i = 0; i < COUNTERS; i++) {
                    counters.add(ChildJvm.lockChild(
                            provider, "count", lock.toString(), counter.toString(), "1", Integer.toString(INCREMENTS)));
                }
                for (ChildJvm child : counters) {
                    assertThat(child.expect(""))
                            .as("counter %s", child.transcript())
                            .isEqualTo("DONE");
                    assertThat(child.awaitExit()).isZero();
                }
            } finally {
                Files.writeString(stop, "stop");
                for (ChildJvm child : counters) {
                    child.close();
                }
            }
            long deletions = Long.parseLong(deleter.expect("DELETED ").substring(8));
            assertThat(deleter.awaitExit()).isZero();
            assertThat(deletions)
                    .as("the deleter must have removed the lock file at least once, or this proves nothing")
                    .isPositive();
            System.out.printf(
                    "%s: %d increments, lock file deleted %d times%n", provider, COUNTERS * INCREMENTS, deletions);
        }
        assertThat(Files.readString(counter).strip()).isEqualTo(Integer.toString(COUNTERS * INCREMENTS));
    }
}
