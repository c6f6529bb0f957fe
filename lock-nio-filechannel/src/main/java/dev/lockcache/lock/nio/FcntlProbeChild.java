package dev.lockcache.lock.nio;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The other process of an {@link FcntlProbe}: locks the probe file given as the argument, prints {@code HELD} (or {@code
 * BUSY}, or {@code FAILED reason}), and keeps the lock until its standard input ends. Needs only the JDK.
 */
final class FcntlProbeChild {

    private FcntlProbeChild() {}

    public static void main(String[] args) throws IOException {
        try (FileChannel channel = FileChannel.open(
                Path.of(args[0]),
                StandardOpenOption.READ,
                StandardOpenOption.WRITE,
                StandardOpenOption.CREATE_NEW,
                java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            FileLock lock = channel.tryLock();
            System.out.println(lock == null ? "BUSY" : "HELD");
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold until the parent closes our standard input (or dies)
            }
        } catch (IOException | RuntimeException e) {
            System.out.println("FAILED " + e);
            System.out.flush();
        }
    }
}
