package dev.lockcache.lock.composite;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.spi.FileIdentity;
import dev.lockcache.lock.spi.KernelDirectory;
import dev.lockcache.lock.spi.KernelFile;
import dev.lockcache.lock.spi.KernelMechanism;
import dev.lockcache.lock.spi.Mechanism;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * Two kernel mechanisms held together on one lock file, always in the same order: the first is taken first and
 * released last, so two composites never deadlock on each other, and a peer of either kind is excluded. Reads,
 * writes and identities go through the first.
 */
final class DoubleMechanism implements KernelMechanism {
    private final KernelMechanism first;
    private final KernelMechanism second;

    DoubleMechanism(KernelMechanism first, KernelMechanism second) {
        this.first = first;
        this.second = second;
    }

    @Override
    public Set<Mechanism> mechanisms() {
        Set<Mechanism> both = EnumSet.copyOf(first.mechanisms());
        both.addAll(second.mechanisms());
        return Set.copyOf(both);
    }

    @Override
    public boolean perOpenFile() {
        return first.perOpenFile() && second.perOpenFile();
    }

    @Override
    public boolean exclusiveNeedsWrite() {
        return first.exclusiveNeedsWrite() || second.exclusiveNeedsWrite();
    }

    @Override
    public KernelDirectory openDirectory(Path directory) throws IOException {
        KernelDirectory one = first.openDirectory(directory);
        try {
            return new Pair(one, second.openDirectory(directory));
        } catch (IOException | RuntimeException e) {
            one.close();
            throw e;
        }
    }

    private record Pair(KernelDirectory one, KernelDirectory two) implements KernelDirectory {
        @Override
        public FileIdentity identity() throws IOException {
            return one.identity();
        }

        @Override
        public KernelFile open(String name, OpenMode mode, int createMode) throws IOException {
            KernelFile a = one.open(name, mode, createMode);
            try {
                KernelFile b = two.open(name, mode == OpenMode.CREATE_NEW ? OpenMode.READ_WRITE : mode, 0);
                return new Both(a, b);
            } catch (IOException | RuntimeException e) {
                a.close();
                throw e;
            }
        }

        @Override
        public Optional<FileIdentity> identityOf(String name) throws IOException {
            return one.identityOf(name);
        }

        @Override
        public void close() {
            two.close();
            one.close();
        }
    }

    private record Both(KernelFile a, KernelFile b) implements KernelFile {
        @Override
        public FileIdentity identity() throws IOException {
            return a.identity();
        }

        @Override
        public boolean writable() {
            return a.writable() && b.writable();
        }

        @Override
        public boolean tryLock(LockMode mode) throws IOException {
            if (!a.tryLock(mode)) {
                return false;
            }
            boolean both = false;
            try {
                both = b.tryLock(mode);
                return both;
            } finally {
                if (!both) {
                    a.unlock();
                }
            }
        }

        @Override
        public boolean lock(LockMode mode, long timeoutNanos) throws IOException, InterruptedException {
            long start = System.nanoTime();
            if (!a.lock(mode, timeoutNanos)) {
                return false;
            }
            boolean both = false;
            try {
                long left =
                        timeoutNanos == Long.MAX_VALUE ? Long.MAX_VALUE : timeoutNanos - (System.nanoTime() - start);
                both = b.tryLock(mode) || (left > 0 && b.lock(mode, left));
                return both;
            } finally {
                if (!both) {
                    a.unlock();
                }
            }
        }

        @Override
        public void unlock() throws IOException {
            try {
                b.unlock();
            } finally {
                a.unlock();
            }
        }

        @Override
        public int read(byte[] buffer, long position) throws IOException {
            return a.read(buffer, position);
        }

        @Override
        public void write(byte[] bytes, long position) throws IOException {
            a.write(bytes, position);
        }

        @Override
        public void restrictMode(int mode) throws IOException {
            a.restrictMode(mode);
        }

        @Override
        public boolean isOpen() {
            return a.isOpen() && b.isOpen();
        }

        @Override
        public void close() {
            b.close();
            a.close();
        }
    }
}
