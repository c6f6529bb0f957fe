package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.OwnerRecord;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/** Owner records written by hand, as other processes and hosts would leave them. */
final class HandMadeRecords {

    private HandMadeRecords() {}

    static OwnerRecord onAnotherHost(String token) {
        return new OwnerRecord(
                4242,
                "elsewhere.example",
                1_000,
                token,
                "exclusive-create",
                LockMode.EXCLUSIVE,
                Instant.now(),
                7,
                0,
                "written by hand");
    }

    static OwnerRecord ofPid(long pid, long startMillis, String token) {
        return new OwnerRecord(
                pid,
                OwnerRecord.currentHost(),
                startMillis,
                token,
                "exclusive-create",
                LockMode.EXCLUSIVE,
                Instant.now(),
                7,
                0,
                "written by hand");
    }

    /** A pid that belonged to a process which has exited and been reaped. */
    static long deadPid() throws IOException, InterruptedException {
        Process process = new ProcessBuilder("true").start();
        process.waitFor();
        return process.pid();
    }

    static void write(Path lockPath, OwnerRecord record) throws IOException {
        Files.write(lockPath, record.encode().bytes(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    /** Rewrites the heartbeat digits of the record at {@code lockPath} in place, as a live holder does. */
    static void beat(Path lockPath, OwnerRecord record, long heartbeat) throws IOException {
        try (FileChannel channel = FileChannel.open(lockPath, StandardOpenOption.WRITE)) {
            RecordPublisher.writeFully(
                    channel,
                    OwnerRecord.Encoded.heartbeatDigits(heartbeat),
                    record.encode().heartbeatOffset());
        }
    }
}
