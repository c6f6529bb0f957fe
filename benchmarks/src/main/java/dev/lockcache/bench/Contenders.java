package dev.lockcache.bench;

import dev.lockcache.lock.FileLocks;
import dev.lockcache.lock.LockHandle;
import dev.lockcache.lock.LockOptions;
import dev.lockcache.lock.LockProviders;
import dev.lockcache.lock.spi.LockProvider;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jnr.constants.platform.Errno;
import jnr.constants.platform.OpenFlags;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import org.eclipse.aether.named.NamedLock;
import org.eclipse.aether.named.NamedLockKey;
import org.eclipse.aether.named.providers.FileLockNamedLockFactory;

/** The contenders the harness knows by name: lockcache's providers and the baselines. */
final class Contenders {

    /** Raw JDK: {@code FileChannel.lock()} (blocking {@code fcntl(F_SETLKW)}) on a channel kept open. */
    static final String JDK_CHANNEL = "jdk-channel";

    /** jnr-posix {@code flock(LOCK_EX)} (blocking) on a descriptor kept open: the floor a JVM can reach. */
    static final String JNR_FLOCK = "jnr-flock";

    /** Maven Resolver's {@code FileLockNamedLockFactory}, lock files kept ({@code deleteLockFiles=false}). */
    static final String MAVEN_FILE_LOCK = "maven-file-lock";

    /** The seed design's lock: {@code CREATE_NEW}, write the pid, poll every 100 ms, delete on release. */
    static final String SEED_POLLED = "seed-polled";

    /** The baselines that are not lockcache providers. */
    static final List<String> BASELINES = List.of(JDK_CHANNEL, JNR_FLOCK, MAVEN_FILE_LOCK, SEED_POLLED);

    /** lockcache's providers in the order the tables show them. */
    static final List<String> PROVIDER_ORDER = List.of("flock", "ofd", "nio", "double", "exclusive-create");

    private Contenders() {}

    /** The contender called {@code name}: a baseline, or else the installed lockcache provider of that name. */
    static Contender named(String name) {
        return switch (name) {
            case JDK_CHANNEL -> new JdkChannel();
            case JNR_FLOCK -> new JnrFlock();
            case MAVEN_FILE_LOCK -> new MavenFileLock();
            case SEED_POLLED -> new SeedPolled();
            default -> new Provider(LockProviders.named(name));
        };
    }

    /** Names of the lockcache providers installed and available here, in {@link #PROVIDER_ORDER} first. */
    static List<String> availableProviders() {
        var installed = LockProviders.installed();
        List<String> names = new ArrayList<>();
        for (String known : PROVIDER_ORDER) {
            LockProvider p = installed.get(known);
            if (p != null && p.availability().available()) {
                names.add(known);
            }
        }
        for (var e : installed.entrySet()) {
            if (!names.contains(e.getKey()) && e.getValue().availability().available()) {
                names.add(e.getKey());
            }
        }
        return names;
    }

    /** A lockcache provider through the public API, waiting without limit. */
    static final class Provider implements Contender {
        private static final LockOptions FOREVER = LockOptions.exclusive().waitForever();
        private final FileLocks locks;

        Provider(LockProvider provider) {
            this.locks = FileLocks.using(provider);
        }

        @Override
        public String name() {
            return locks.provider().name();
        }

        @Override
        public boolean threadSafe() {
            return true;
        }

        @Override
        public Session open(Path lockFile) {
            return new Session() {
                @Override
                public Held acquire() throws InterruptedException {
                    LockHandle handle = locks.acquire(lockFile, FOREVER);
                    return handle::close;
                }

                @Override
                public void close() {}
            };
        }
    }

    static final class JdkChannel implements Contender {
        @Override
        public String name() {
            return JDK_CHANNEL;
        }

        @Override
        public boolean threadSafe() {
            return false; // a second thread's lock() would throw OverlappingFileLockException
        }

        @Override
        public Session open(Path lockFile) throws IOException {
            FileChannel channel = FileChannel.open(
                    lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            return new Session() {
                @Override
                public Held acquire() throws IOException {
                    FileLock lock = channel.lock();
                    return lock::release;
                }

                @Override
                public void close() throws IOException {
                    channel.close();
                }
            };
        }
    }

    static final class JnrFlock implements Contender {
        static final int LOCK_EX = 2;
        static final int LOCK_UN = 8;
        private static final POSIX POSIX = POSIXFactory.getNativePOSIX();

        @Override
        public String name() {
            return JNR_FLOCK;
        }

        @Override
        public boolean threadSafe() {
            return false; // flock locks belong to the open file description, shared by the JVM's threads
        }

        @Override
        public Session open(Path lockFile) throws IOException {
            int fd = openDescriptor(lockFile);
            return new Session() {
                @Override
                public Held acquire() throws IOException {
                    flock(fd, LOCK_EX, lockFile);
                    return () -> flock(fd, LOCK_UN, lockFile);
                }

                @Override
                public void close() {
                    POSIX.close(fd);
                }
            };
        }

        static int openDescriptor(Path lockFile) throws IOException {
            int fd = POSIX.open(lockFile.toString(), OpenFlags.O_RDWR.intValue() | OpenFlags.O_CREAT.intValue(), 0644);
            if (fd < 0) {
                throw new IOException("open " + lockFile + ": errno " + POSIX.errno());
            }
            return fd;
        }

        static void closeDescriptor(int fd) {
            POSIX.close(fd);
        }

        static void flock(int fd, int operation, Path lockFile) throws IOException {
            while (POSIX.flock(fd, operation) != 0) {
                int errno = POSIX.errno();
                if (errno != Errno.EINTR.intValue()) {
                    throw new IOException("flock(" + operation + ") on " + lockFile + ": errno " + errno);
                }
            }
        }
    }

    static final class MavenFileLock implements Contender {
        static {
            // Its default deletes the lock file on close, after which two processes can both hold "the" lock
            // (reproduced); measured that way it would look impossibly fast. Read once, when the factory
            // class initialises, so it must be set before.
            if (System.getProperty(FileLockNamedLockFactory.SYSTEM_PROP_DELETE_LOCK_FILES) == null) {
                System.setProperty(FileLockNamedLockFactory.SYSTEM_PROP_DELETE_LOCK_FILES, "false");
            }
        }

        @Override
        public String name() {
            return MAVEN_FILE_LOCK;
        }

        @Override
        public boolean threadSafe() {
            return true;
        }

        @Override
        public Session open(Path lockFile) {
            FileLockNamedLockFactory factory = new FileLockNamedLockFactory();
            NamedLock lock = factory.getLock(NamedLockKey.of(lockFile.toUri().toString()));
            return new Session() {
                @Override
                public Held acquire() throws InterruptedException {
                    while (!lock.lockExclusively(1, TimeUnit.HOURS)) {
                        // its wait is bounded; keep waiting like the other contenders do
                    }
                    return lock::unlock;
                }

                @Override
                public void close() {
                    lock.close();
                    factory.shutdown();
                }
            };
        }
    }

    static final class SeedPolled implements Contender {
        @Override
        public String name() {
            return SEED_POLLED;
        }

        @Override
        public boolean threadSafe() {
            return true;
        }

        @Override
        public Session open(Path lockFile) {
            SeedPolledLock lock = new SeedPolledLock(lockFile, SeedPolledLock.SEED_RETRY_MILLIS);
            return new Session() {
                @Override
                public Held acquire() throws IOException, InterruptedException {
                    SeedPolledLock.Hold hold = lock.acquire();
                    return hold::release;
                }

                @Override
                public void close() {}
            };
        }
    }
}
