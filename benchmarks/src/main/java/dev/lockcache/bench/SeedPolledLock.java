package dev.lockcache.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The seed design's lock, rebuilt as a baseline: create the lock file with {@code CREATE_NEW} ({@code
 * O_CREAT|O_EXCL}), write this process's pid into it, and while it exists poll again after a fixed pause
 * (100 ms in the seed); release closes and deletes the file. No deadline here: the harness always waits.
 *
 * <p>The fixed pause is the mechanism being measured, not test ordering: it is why the seed's hand-off takes
 * about half a pause on average.
 */
final class SeedPolledLock {

    /** The seed's retry interval. */
    static final long SEED_RETRY_MILLIS = 100;

    private static final byte[] PID =
            Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII);

    private final Path lockFile;
    private final long retryMillis;

    SeedPolledLock(Path lockFile, long retryMillis) {
        this.lockFile = lockFile;
        this.retryMillis = retryMillis;
    }

    /** A held seed lock. */
    interface Hold {
        void release() throws IOException;
    }

    Hold acquire() throws IOException, InterruptedException {
        Files.createDirectories(lockFile.getParent());
        while (true) {
            try {
                SeekableByteChannel channel =
                        Files.newByteChannel(lockFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                try (channel) {
                    channel.write(ByteBuffer.wrap(PID));
                } catch (IOException e) {
                    // the seed ignores a failed pid write and keeps the lock
                }
                return this::release;
            } catch (FileAlreadyExistsException e) {
                TimeUnit.MILLISECONDS.sleep(retryMillis);
            }
        }
    }

    private void release() throws IOException {
        try {
            Files.delete(lockFile);
        } catch (NoSuchFileException e) {
            // the seed tolerates a missing file on release
        }
    }
}
