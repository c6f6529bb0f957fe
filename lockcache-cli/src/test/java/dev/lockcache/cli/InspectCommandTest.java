package dev.lockcache.cli;

import static dev.lockcache.cli.RunCommandTest.assertOneLineError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.LockFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {

    @TempDir
    Path dir;

    @Test
    void showsTheLiveHolderThenTheLastOne() throws Exception {
        Path lock = dir.resolve("job.lock");
        try (Cli holder = Cli.holder(dir, lock, "--provider", "flock")) {
            Cli.Result held = Cli.run(dir, "inspect", "--json", lock.toString());
            assertThat(held.exit()).as(held.toString()).isZero();
            JsonNode report = JsonOutput.parse(held);
            assertThat(report.get("held").asBoolean()).isTrue();
            assertThat(report.get("checkedWith").asText()).isEqualTo("flock");
            assertThat(report.at("/owner/state").asText()).isEqualTo("known");
            assertThat(report.at("/owner/pid").asLong()).isEqualTo(holder.pid());
            assertThat(report.at("/owner/provider").asText()).isEqualTo("flock");
            assertThat(report.at("/owner/operation").asText()).contains("lockcache run sh -c");
            assertThat(report.get("stale").asText()).isEqualTo("no");

            Cli.Result text = Cli.run(dir, "inspect", lock.toString());
            assertThat(text.stdout()).contains("held now    yes").contains("pid " + holder.pid());
            holder.send("release");
            assertThat(holder.awaitResult().exit()).isZero();
        }
        JsonNode after = JsonOutput.parse(Cli.run(dir, "inspect", "--json", lock.toString()));
        assertThat(after.get("held").asBoolean()).isFalse();
        assertThat(after.get("staleReason").asText()).contains("last holder");
    }

    @Test
    void anExclusiveCreateLockOfADeadProcessIsJudgedStaleAndLeftAlone() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long deadPid = gone.pid();
        OwnerRecord record = new OwnerRecord(
                deadPid,
                OwnerRecord.currentHost(),
                1_000L,
                OwnerRecord.newToken(),
                "exclusive-create",
                LockMode.EXCLUSIVE,
                Instant.now(),
                3,
                0,
                "test");
        Path lock = dir.resolve("dead.lock");
        Files.write(lock, record.encode().bytes());
        byte[] before = Files.readAllBytes(lock);

        Cli.Result result = Cli.run(dir, "inspect", "--json", lock.toString());
        JsonNode report = JsonOutput.parse(result);
        assertThat(report.get("checkedWith").asText()).isEqualTo("exclusive-create");
        assertThat(report.get("held").asBoolean()).isTrue();
        assertThat(report.get("stale").asText()).isEqualTo("yes");
        assertThat(report.get("staleReason").asText()).contains("pid " + deadPid + " is not running");
        assertThat(Files.readAllBytes(lock)).as("inspecting changes nothing").isEqualTo(before);
    }

    @Test
    void judgesOnlyWithProof() {
        OwnerRecord here = OwnerRecord.forThisProcess("exclusive-create", LockMode.EXCLUSIVE, 1, "");
        LockOwner known = new LockOwner.Known(here);
        EnumSet<LockFeature> polled = EnumSet.of(LockFeature.CROSS_PROCESS);
        Instant start = here.processStart().orElseThrow();

        assertThat(StaleJudgement.of(true, known, polled, pid -> Optional.of(Optional.of(start)))
                        .verdict())
                .isEqualTo("no");
        assertThat(StaleJudgement.of(true, known, polled, pid -> Optional.empty())
                        .verdict())
                .isEqualTo("yes");
        StaleJudgement reused =
                StaleJudgement.of(true, known, polled, pid -> Optional.of(Optional.of(start.plusSeconds(5))));
        assertThat(reused.verdict()).isEqualTo("yes");
        assertThat(reused.reason()).contains("another process");

        OwnerRecord elsewhere = new OwnerRecord(
                here.pid(),
                "some-other-host",
                here.processStartMillis(),
                here.token(),
                "exclusive-create",
                LockMode.EXCLUSIVE,
                Instant.now(),
                1,
                7,
                "");
        StaleJudgement remote =
                StaleJudgement.of(true, new LockOwner.Known(elsewhere), polled, pid -> Optional.empty());
        assertThat(remote.verdict()).isEqualTo("unknown");
        assertThat(remote.reason()).contains("heartbeat lease");

        assertThat(StaleJudgement.of(true, known, EnumSet.of(LockFeature.RELEASED_ON_CRASH), pid -> Optional.empty())
                        .verdict())
                .as("a kernel lock that is held has a live holder")
                .isEqualTo("no");
        assertThat(StaleJudgement.of(true, new LockOwner.Absent(), polled, pid -> Optional.empty())
                        .verdict())
                .isEqualTo("unknown");
    }

    @Test
    void badLockFilesGiveOneLine() throws Exception {
        Cli.Result missing = Cli.run(dir, "inspect", dir.resolve("nope.lock").toString());
        assertThat(missing.exit()).isEqualTo(ExitCode.FAILURE);
        assertOneLineError(missing, "no lock file at");

        Cli.Result directory = Cli.run(dir, "inspect", dir.toString());
        assertThat(directory.exit()).isEqualTo(ExitCode.FAILURE);
        assertOneLineError(directory, "is a directory");

        Path loop = dir.resolve("loop.lock");
        Files.createSymbolicLink(loop, loop.getFileName());
        Cli.Result unreadable = Cli.run(dir, "inspect", loop.toString());
        assertThat(unreadable.exit()).isEqualTo(ExitCode.FAILURE);
        assertOneLineError(unreadable, "cannot read lock file");
    }
}
