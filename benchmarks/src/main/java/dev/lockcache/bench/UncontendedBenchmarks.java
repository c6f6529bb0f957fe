package dev.lockcache.bench;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One thread, nobody else around: the cost of an exclusive acquire+release on a lock file that is already
 * open (or, for lockcache, already known to the provider). Each baseline keeps its file open the way its
 * mechanism allows; the {@code CREATE_NEW} cycle cannot, since creating the file is the lock.
 *
 * <p>Lock files live under the directory named by the system property {@value #DIR_PROPERTY} (default: the
 * temporary directory), so the same run can be pointed at another filesystem.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class UncontendedBenchmarks {

    /** System property naming the directory for lock files. */
    public static final String DIR_PROPERTY = "lockcache.bench.dir";

    static Path freshDirectory(String prefix) throws IOException {
        Path base = Path.of(System.getProperty(DIR_PROPERTY, System.getProperty("java.io.tmpdir")));
        Files.createDirectories(base);
        return Files.createTempDirectory(base, prefix);
    }

    /** Raw JDK {@code FileChannel.lock()} + {@code release()} on an open channel. */
    @State(Scope.Thread)
    public static class JdkChannelState {
        FileChannel channel;

        @Setup
        public void open() throws IOException {
            channel = FileChannel.open(
                    freshDirectory("jdk-channel-").resolve("bench.lock"),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        }

        @TearDown
        public void close() throws IOException {
            channel.close();
        }
    }

    /** jnr-posix {@code flock} on an open descriptor. */
    @State(Scope.Thread)
    public static class JnrFlockState {
        Path file;
        int fd;

        @Setup
        public void open() throws IOException {
            file = freshDirectory("jnr-flock-").resolve("bench.lock");
            fd = Contenders.JnrFlock.openDescriptor(file);
        }

        @TearDown
        public void close() {
            Contenders.JnrFlock.closeDescriptor(fd);
        }
    }

    /** A raw OFD lock/unlock pair on an open descriptor (the {@code ofd} provider's floor). */
    @State(Scope.Thread)
    public static class RawOfdState {
        RawOfd ofd;

        @Setup
        public void open() throws IOException {
            ofd = new RawOfd(freshDirectory("raw-ofd-").resolve("bench.lock"));
        }

        @TearDown
        public void close() {
            ofd.close();
        }
    }

    /** Maven Resolver's file lock, its named lock (and so its channel) kept between cycles. */
    @State(Scope.Thread)
    public static class MavenState {
        Contender.Session session;

        @Setup
        public void open() throws IOException {
            session =
                    new Contenders.MavenFileLock().open(freshDirectory("maven-").resolve("bench.lock"));
        }

        @TearDown
        public void close() throws IOException {
            session.close();
        }
    }

    /** The lock file path and record for the {@code CREATE_NEW} cycle. */
    @State(Scope.Thread)
    public static class CreateNewState {
        Path file;
        final byte[] record = ("pid=" + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);

        @Setup
        public void open() throws IOException {
            file = freshDirectory("create-new-").resolve("bench.lock");
        }
    }

    /** A lockcache provider, found by name through {@link LockProviders}. */
    @State(Scope.Thread)
    public static class ProviderState {
        @Param({"flock"})
        public String provider;

        FileLocks locks;
        Path file;
        final LockOptions options = LockOptions.exclusive();

        @Setup
        public void open() throws IOException, InterruptedException {
            locks = FileLocks.using(LockProviders.named(provider));
            file = freshDirectory(provider + "-").resolve("bench.lock");
            locks.acquire(file, options).close(); // the file exists and the provider knows it
        }
    }

    @Benchmark
    public void jdkChannel(JdkChannelState s) throws IOException {
        s.channel.lock().release();
    }

    @Benchmark
    public void jnrFlock(JnrFlockState s) throws IOException {
        Contenders.JnrFlock.flock(s.fd, Contenders.JnrFlock.LOCK_EX, s.file);
        Contenders.JnrFlock.flock(s.fd, Contenders.JnrFlock.LOCK_UN, s.file);
    }

    @Benchmark
    public void rawOfd(RawOfdState s) {
        s.ofd.lockExclusive();
        s.ofd.unlock();
    }

    @Benchmark
    public void mavenFileLock(MavenState s) throws IOException, InterruptedException {
        s.session.acquire().release();
    }

    @Benchmark
    public void jdkCreateNewWriteDelete(CreateNewState s) throws IOException {
        try (SeekableByteChannel channel =
                Files.newByteChannel(s.file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(s.record));
        }
        Files.delete(s.file);
    }

    @Benchmark
    public void provider(ProviderState s) throws InterruptedException {
        s.locks.acquire(s.file, s.options).close();
    }
}
