package dev.lockcache.lock.ofd;

import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.FcntlChannels;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.OwnerRecordSlot;
import dev.lockcache.lock.spi.ProbeFiles;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linux open-file-description locks ({@code F_OFD_SETLK}/{@code F_OFD_SETLKW}), provider name {@value #NAME}.
 *
 * <p>Per descriptor like {@code flock(2)} (two descriptors exclude each other, also inside one process, and
 * closing another descriptor of the file drops nothing); forwarded to the server on NFS like classic {@code
 * fcntl} locks; released by the kernel when the holder dies. They conflict with classic {@code fcntl}/{@code
 * lockf} locks on the same file (Java's {@code FileChannel.lock}, Python's {@code fcntl.lockf}) and not with
 * {@code flock(2)} locks.
 *
 * <p>Lock files are kept and stay open between uses, at most {@value #DEFAULT_OPEN_FILES} idle ones by default
 * ({@link #OPEN_FILES_PROPERTY}). After each lock the provider checks that the path still names the locked
 * file and retries if it was removed or replaced. An exclusive holder writes its owner record into the lock
 * file in place; its fencing token is the previous record's generation plus one. Waiting blocks in the kernel
 * in a helper thread that owns its own descriptor, so the caller's deadline and interrupts are honoured and an
 * abandoned wait never releases anyone else's lock.
 *
 * <p>Thread-safe; found through {@link java.util.ServiceLoader}.
 */
public final class OfdLockProvider implements LockProvider {

    /** This provider's name. */
    public static final String NAME = "ofd";

    /** System property: how many idle lock files to keep open (default {@value #DEFAULT_OPEN_FILES}). */
    public static final String OPEN_FILES_PROPERTY = "lockcache.ofd.openFiles";

    /** Default of {@link #OPEN_FILES_PROPERTY}. */
    public static final int DEFAULT_OPEN_FILES = 64;

    private static final Logger LOG = LoggerFactory.getLogger(OfdLockProvider.class);
    private static final int MAX_REPLACED_RETRIES = 1000;
    private static final Set<LockFeature> FEATURES = Set.copyOf(EnumSet.of(
            LockFeature.SHARED,
            LockFeature.CROSS_PROCESS,
            LockFeature.CROSS_HOST,
            LockFeature.RELEASED_ON_CRASH,
            LockFeature.BLOCKING_HANDOFF));

    /** OFD locks conflict with classic fcntl locks (nio, double's fcntl half), not with flock. */
    private final OwnerRecordSlot records = new OwnerRecordSlot(NAME, Set.of(NAME, "nio", "double"));

    private final DescriptorCache idle;
    private final BlockedWaiters waiters = new BlockedWaiters();
    private final boolean kernelWaits;
    private volatile Availability availability;

    /** A provider keeping {@link #OPEN_FILES_PROPERTY} idle lock files open (for {@link java.util.ServiceLoader}). */
    public OfdLockProvider() {
        this(Integer.getInteger(OPEN_FILES_PROPERTY, DEFAULT_OPEN_FILES));
    }

    /** A provider keeping at most {@code openFiles} idle lock files open (0: close each after use). */
    public OfdLockProvider(int openFiles) {
        this(openFiles, true);
    }

    /**
     * A provider that waits in the kernel ({@code kernelWaits}) or polls with the caller's backoff; polling
     * exists to measure the hand-off against.
     */
    OfdLockProvider(int openFiles, boolean kernelWaits) {
        this.idle = new DescriptorCache(openFiles);
        this.kernelWaits = kernelWaits;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<dev.lockcache.lock.spi.Mechanism> mechanisms() {
        return Set.of(dev.lockcache.lock.spi.Mechanism.OFD);
    }

    @Override
    public Set<LockFeature> features() {
        return FEATURES;
    }

    @Override
    public Availability availability() {
        Availability known = availability;
        if (known == null) {
            known = checkAvailability();
            availability = known;
        }
        return known;
    }

    private static Availability checkAvailability() {
        Optional<String> failure = OfdSyscalls.loadFailure();
        if (failure.isPresent()) {
            return Availability.unavailable(failure.get());
        }
        Path scratch = null;
        try {
            scratch = Files.createTempFile("lockcache-ofd-check", ".lock");
            Descriptor descriptor = Descriptor.open(scratch);
            try {
                OfdSyscalls.wouldGrant(descriptor.fd(), OfdSyscalls.F_WRLCK, scratch);
            } finally {
                descriptor.close();
            }
            return Availability.available("Linux " + System.getProperty("os.version") + " on "
                    + System.getProperty("os.arch") + " takes F_OFD_GETLK; libc loaded through JNA");
        } catch (OfdSyscalls.OfdCallException e) {
            return Availability.unavailable(
                    e.errno() == OfdSyscalls.EINVAL
                            ? "this kernel has no open-file-description locks (Linux 3.15 or newer needed): "
                                    + e.getMessage()
                            : e.getMessage());
        } catch (IOException e) {
            return Availability.unavailable("cannot check OFD locks in the temporary directory: " + e);
        } finally {
            if (scratch != null) {
                try {
                    Files.deleteIfExists(scratch);
                } catch (IOException ignored) {
                    // a stray empty temp file is harmless
                }
            }
        }
    }

    @Override
    public ProbeResult probe(Path directory) {
        String type = fileStoreType(directory);
        Availability here = availability();
        if (!here.available()) {
            return new ProbeResult(directory, ProbeResult.Verdict.UNAVAILABLE, type, here.reason());
        }
        Path file = ProbeFiles.unique(directory, NAME);
        Descriptor first = null;
        Descriptor second = null;
        try {
            first = Descriptor.open(file);
            second = Descriptor.open(file);
            if (!OfdSyscalls.tryLock(first.fd(), OfdSyscalls.F_WRLCK, file)) {
                return new ProbeResult(
                        directory,
                        ProbeResult.Verdict.UNAVAILABLE,
                        type,
                        "someone else holds the probe file " + file + "; probe again later");
            }
            boolean secondGot = OfdSyscalls.tryLock(second.fd(), OfdSyscalls.F_WRLCK, file);
            if (secondGot) {
                return new ProbeResult(
                        directory,
                        ProbeResult.Verdict.DOES_NOT_EXCLUDE,
                        type,
                        "two descriptors of " + file + " both took an exclusive OFD lock: this filesystem's locks"
                                + " do not exclude; use another provider here");
            }
            return new ProbeResult(
                    directory,
                    ProbeResult.Verdict.EXCLUDES,
                    type,
                    "a second descriptor of " + file + " was refused while the first held an exclusive OFD lock");
        } catch (IOException e) {
            return new ProbeResult(directory, ProbeResult.Verdict.UNAVAILABLE, type, e.getMessage());
        } finally {
            if (second != null) {
                unlockAndClose(second);
            }
            if (first != null) {
                unlockAndClose(first);
            }
            ProbeFiles.remove(file);
        }
    }

    private static String fileStoreType(Path directory) {
        try {
            return Files.getFileStore(directory).type();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    @Override
    public Optional<HeldLock> tryLock(LockRequest request) throws IOException {
        Path path = request.path();
        short type = lockType(request.mode());
        for (int replaced = 0; replaced < MAX_REPLACED_RETRIES; replaced++) {
            Descriptor descriptor = idle.take(path).orElse(null);
            if (descriptor == null) {
                descriptor = Descriptor.open(path);
            }
            boolean locked;
            try {
                requireWritableFor(descriptor, request.mode());
                locked = OfdSyscalls.tryLock(descriptor.fd(), type, path);
            } catch (IOException | RuntimeException e) {
                descriptor.close();
                throw e;
            }
            if (!locked) {
                if (descriptor.stillNamedByPath()) {
                    idle.put(descriptor);
                    return Optional.empty();
                }
                descriptor.close(); // a kept descriptor of a removed file: its holder is not ours to wait for
                continue;
            }
            Optional<HeldLock> held = confirm(descriptor, request);
            if (held.isPresent()) {
                return held;
            }
        }
        throw new IOException("lock file " + path + " was removed or replaced " + MAX_REPLACED_RETRIES
                + " times in a row while locking; stop whatever deletes it (lock files must be kept)");
    }

    private static void requireWritableFor(Descriptor descriptor, LockMode mode) throws IOException {
        if (mode == LockMode.EXCLUSIVE && !descriptor.writable()) {
            throw new java.nio.file.AccessDeniedException(
                    descriptor.path().toString(),
                    null,
                    "the lock file is read-only for this process: an exclusive OFD lock needs write access"
                            + " (shared locks work); fix its permissions or lock it shared");
        }
    }

    @Override
    public Optional<HeldLock> awaitLock(LockRequest request, long pollNanos, long remainingNanos)
            throws IOException, InterruptedException {
        if (!kernelWaits) {
            return LockProvider.super.awaitLock(request, pollNanos, remainingNanos);
        }
        Optional<Descriptor> granted = waiters.await(request.path(), request.mode(), pollNanos, remainingNanos);
        if (granted.isEmpty()) {
            return Optional.empty();
        }
        return confirm(granted.get(), request);
    }

    /**
     * Completes a lock the kernel granted on {@code descriptor}: if the path no longer names that file, unlocks,
     * closes and returns empty (the caller tries again on the new file); else reads the previous record and, for
     * an exclusive lock, writes this holder's.
     */
    private Optional<HeldLock> confirm(Descriptor descriptor, LockRequest request) throws IOException {
        try {
            if (!descriptor.stillNamedByPath()) {
                unlockAndClose(descriptor);
                return Optional.empty();
            }
            long generation = previousGeneration(descriptor);
            if (request.mode() == LockMode.EXCLUSIVE) {
                generation++;
                writeRecord(descriptor, request, generation);
            }
            return Optional.of(new OfdHeldLock(descriptor, request.mode(), generation));
        } catch (IOException | RuntimeException e) {
            unlockAndClose(descriptor);
            throw e;
        }
    }

    private long previousGeneration(Descriptor descriptor) throws IOException {
        byte[] buffer = new byte[OwnerRecord.MAX_BYTES + 1];
        int length = OfdSyscalls.readFromStart(descriptor.fd(), buffer, descriptor.path());
        return records.previousGeneration(descriptor.path(), Arrays.copyOf(buffer, Math.max(length, 0)));
    }

    private void writeRecord(Descriptor descriptor, LockRequest request, long generation) {
        byte[] record = records.exclusiveRecord(descriptor.path(), generation, request.operation())
                .encode()
                .bytes();
        try {
            OfdSyscalls.writeAtStart(descriptor.fd(), record, descriptor.path());
        } catch (IOException e) {
            // The lock is held and excludes; only the description of who holds it is missing.
            LOG.warn("holding {} without an owner record: {}", descriptor.path(), e.getMessage());
        }
    }

    /** Reads the owner record through the JVM's registry of lock files, so no stray close drops a lock. */
    @Override
    public LockOwner readOwner(Path lockFile) {
        return FcntlChannels.jvm().readOwner(lockFile);
    }

    @Override
    public void release(HeldLock lock) throws IOException {
        if (!(lock instanceof OfdHeldLock held)) {
            throw new IllegalArgumentException("not an OFD lock: " + lock);
        }
        Descriptor descriptor = held.descriptor();
        try {
            OfdSyscalls.unlock(descriptor.fd(), descriptor.path());
        } catch (IOException | RuntimeException e) {
            descriptor.close(); // closing the description drops its lock
            throw e;
        }
        idle.put(descriptor);
    }

    private static void unlockAndClose(Descriptor descriptor) {
        try {
            OfdSyscalls.unlock(descriptor.fd(), descriptor.path());
        } catch (IOException ignored) {
            // closing the description drops its lock as well
        } finally {
            descriptor.close();
        }
    }

    /** Idle lock files kept open now (for tests). */
    int idleDescriptors() {
        return idle.size();
    }

    /** Helper threads blocked in the kernel now (for tests). */
    int blockedWaiters() {
        return waiters.inFlight();
    }

    static short lockType(LockMode mode) {
        return mode == LockMode.EXCLUSIVE ? OfdSyscalls.F_WRLCK : OfdSyscalls.F_RDLCK;
    }

    @Override
    public String toString() {
        return "OfdLockProvider[" + NAME + ", " + idle.capacity() + " idle files]";
    }
}
