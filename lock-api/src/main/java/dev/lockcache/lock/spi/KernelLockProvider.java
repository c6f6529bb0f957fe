package dev.lockcache.lock.spi;

import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockLostException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import dev.lockcache.lock.UnsafePathException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The one skeleton of every kernel lock provider ({@code flock}, {@code nio}, {@code ofd}, {@code double}): a
 * provider supplies its {@link KernelMechanism} (open, lock, unlock, identity, positioned read and write, close)
 * and this class does the rest, once:
 *
 * <ul>
 *   <li><b>Opening safely</b> (through {@link OpenLockFiles}): relative to the lock directory's descriptor,
 *       never following a symbolic link, never blocking on a FIFO; the directory is judged by {@link
 *       DirectoryTrust}; the file must be a regular file with one link; a file we create gets {@link
 *       DirectoryTrust#fileMode()} on its descriptor. Open files are kept between uses, a bounded number ({@value
 *       #IDLE_LIMIT_PROPERTY}, default {@value #DEFAULT_IDLE_LIMIT}).
 *   <li><b>The path still names the locked file</b>: after locking, {@code fstat} of the descriptor is compared
 *       with {@code fstatat} of the name; a replaced file is unlocked and the path locked again, at most {@value
 *       #MAX_REPLACED_ROUNDS} times.
 *   <li><b>Owner record and fencing</b>: an exclusive holder writes its {@link OwnerRecord} at the start of the
 *       lock file with generation = previous + 1, which is its fencing token; an acquisition whose record cannot
 *       be written fails and holds nothing. Shared holders write nothing and get the current generation.
 *   <li><b>Foreign files</b>: a record is written only into a file that is ours: created by this open, or owned
 *       by this user (or any user, with the group-shared opt-in), one link, opened for writing, and either empty
 *       or already an owner record. Any other file (a script that locks itself, someone else's file) is locked as
 *       it is and never written: no record, fencing token 0, and {@link #readOwner} says it is not a record.
 *   <li><b>Takeover check</b>: at release an exclusive holder checks that its record is still there; if another
 *       process wrote one meanwhile (a peer using a mechanism that does not exclude ours), the release reports
 *       {@link LockLostException}.
 *   <li><b>Waiting</b> in the kernel, in the caller's thread ({@link KernelFile#lock}), and reading the owner
 *       through the same open file, so no second descriptor is ever closed beside a held lock.
 * </ul>
 */
public abstract class KernelLockProvider implements LockProvider {

    /** System property: how many idle lock files each kernel provider keeps open (default {@value #DEFAULT_IDLE_LIMIT}). */
    public static final String IDLE_LIMIT_PROPERTY = "lockcache.kernel.idleFiles";

    /** The default of {@link #IDLE_LIMIT_PROPERTY}. */
    public static final int DEFAULT_IDLE_LIMIT = 256;

    /** How often a lock file may turn out replaced during one attempt before the attempt fails. */
    public static final int MAX_REPLACED_ROUNDS = 16;

    /** The first bytes of every owner record. */
    static final byte[] RECORD_HEADER = "lockcache-owner ".getBytes(StandardCharsets.US_ASCII);

    private final String name;
    private final Set<LockFeature> features;
    private final java.util.function.Supplier<Availability> availabilityCheck;
    private volatile Availability availability;
    private final KernelMechanism mechanism;
    private final OwnerRecordSlot records;
    private final OpenLockFiles files;
    private final Consumer<Path> beforeLock;

    /**
     * @param name the provider's name, written into records
     * @param features what it can do
     * @param availability whether the mechanism loaded; when not, {@code mechanism} is never called
     * @param mechanism the system calls
     * @param beforeLock a hook run after opening and before each lock attempt (tests hold race windows open
     *     with it); {@code p -> {}} in production
     */
    protected KernelLockProvider(
            String name,
            Set<LockFeature> features,
            Availability availability,
            KernelMechanism mechanism,
            Consumer<Path> beforeLock) {
        this(name, features, () -> availability, mechanism, beforeLock);
    }

    /** As above, with the availability checked on first use (a check that costs a system call or a file). */
    protected KernelLockProvider(
            String name,
            Set<LockFeature> features,
            java.util.function.Supplier<Availability> availability,
            KernelMechanism mechanism,
            Consumer<Path> beforeLock) {
        this.name = name;
        this.features = Set.copyOf(features);
        this.availabilityCheck = availability;
        this.mechanism = mechanism;
        this.records = new OwnerRecordSlot(name, mechanism.mechanisms());
        this.files = new OpenLockFiles(mechanism, idleLimit());
        this.beforeLock = beforeLock;
    }

    private static int idleLimit() {
        String value = System.getProperty(IDLE_LIMIT_PROPERTY, "");
        try {
            return value.isBlank() ? DEFAULT_IDLE_LIMIT : Math.max(0, Integer.parseInt(value.strip()));
        } catch (NumberFormatException e) {
            return DEFAULT_IDLE_LIMIT;
        }
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Set<LockFeature> features() {
        return features;
    }

    @Override
    public final Set<Mechanism> mechanisms() {
        return mechanism.mechanisms();
    }

    @Override
    public final Availability availability() {
        Availability known = availability;
        if (known == null) {
            known = availabilityCheck.get();
            availability = known;
        }
        return known;
    }

    /** The mechanism, for subclasses' probes. */
    protected final KernelMechanism mechanism() {
        return mechanism;
    }

    /**
     * Proves on {@code directory} that two independently opened files of one probe file exclude each other. A
     * mechanism whose locks belong to the process ({@link KernelMechanism#perOpenFile()} false) must override
     * this with a probe from another process.
     */
    @Override
    public ProbeResult probe(Path directory) {
        if (directory == null) {
            throw new IllegalArgumentException("directory must not be null");
        }
        Path dir = directory.toAbsolutePath().normalize();
        String type = ProbeFiles.storeType(dir);
        if (!availability().available()) {
            return new ProbeResult(
                    dir, ProbeResult.Verdict.UNAVAILABLE, type, availability().reason());
        }
        if (!mechanism.perOpenFile()) {
            throw new IllegalStateException(name + " must override probe(): its locks belong to the process");
        }
        Path file = ProbeFiles.unique(dir, name);
        String fileName = file.getFileName().toString();
        KernelFile first = null;
        KernelFile second = null;
        try (KernelDirectory handle = mechanism.openDirectory(dir)) {
            first = handle.open(fileName, KernelMechanism.OpenMode.CREATE_NEW, DirectoryTrust.fileMode());
            second = handle.open(fileName, KernelMechanism.OpenMode.READ_WRITE, 0);
            if (!first.tryLock(LockMode.EXCLUSIVE)) {
                return new ProbeResult(
                        dir, ProbeResult.Verdict.UNAVAILABLE, type, "another process holds the probe file " + file);
            }
            if (second.tryLock(LockMode.EXCLUSIVE)) {
                return new ProbeResult(
                        dir,
                        ProbeResult.Verdict.DOES_NOT_EXCLUDE,
                        type,
                        "two open files of " + file + " both took an exclusive " + name
                                + " lock: this mechanism does not exclude here");
            }
            return new ProbeResult(
                    dir,
                    ProbeResult.Verdict.EXCLUDES,
                    type,
                    "one open file of " + file + " held an exclusive " + name + " lock and a second one's try failed");
        } catch (IOException | RuntimeException e) {
            return new ProbeResult(
                    dir, ProbeResult.Verdict.UNAVAILABLE, type, "cannot lock " + file + " with " + name + ": " + e);
        } finally {
            if (second != null) {
                second.close();
            }
            if (first != null) {
                first.close();
            }
            ProbeFiles.remove(file);
        }
    }

    @Override
    public final Optional<HeldLock> tryLock(LockRequest request) throws IOException {
        try {
            return acquire(request, false, 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // a try never waits, so it is never interrupted in a wait
            return Optional.empty();
        }
    }

    @Override
    public final Optional<HeldLock> awaitLock(LockRequest request, long pollNanos, long remainingNanos)
            throws IOException, InterruptedException {
        return acquire(request, true, remainingNanos);
    }

    private Optional<HeldLock> acquire(LockRequest request, boolean blocking, long timeoutNanos)
            throws IOException, InterruptedException {
        requireAvailable();
        Path path = request.path();
        for (int round = 1; ; round++) {
            OpenLockFiles.Slot slot = files.borrow(path, true);
            boolean locked = false;
            try {
                beforeLock.accept(path);
                locked = blocking ? slot.file.lock(request.mode(), timeoutNanos) : slot.file.tryLock(request.mode());
                if (!locked) {
                    if (slot.created || stillNamed(slot)) {
                        release(slot);
                        return Optional.empty();
                    }
                    files.discard(slot); // a kept file that was removed or replaced: its holder is not ours to see
                    continue;
                }
                FileIdentity held = slot.file.identity();
                Optional<FileIdentity> named = slot.dir.handle().identityOf(slot.name);
                if (named.isPresent() && named.get().sameFile(held)) {
                    return Optional.of(hold(request, slot, held));
                }
            } catch (IOException | RuntimeException | InterruptedException | Error e) {
                abandon(slot, locked);
                throw e;
            }
            abandon(slot, true); // the file was removed or replaced while we locked it: lock what the path names now
            if (blocking) {
                return Optional.empty(); // the wait loop tries again at once
            }
            if (round >= MAX_REPLACED_ROUNDS) {
                throw new FileSystemException(
                        path.toString(),
                        null,
                        "the lock file was replaced " + round + " times while being locked; something deletes or"
                                + " renames lock files in this directory, which breaks locking: stop it");
            }
        }
    }

    private static boolean stillNamed(OpenLockFiles.Slot slot) throws IOException {
        Optional<FileIdentity> named = slot.dir.handle().identityOf(slot.name);
        return named.isPresent() && named.get().sameFile(slot.opened);
    }

    /** Records the acquisition (owner record, fencing token) or undoes it. */
    private HeldLock hold(LockRequest request, OpenLockFiles.Slot slot, FileIdentity held) throws IOException {
        Path path = request.path();
        byte[] raw = readRecord(slot);
        boolean record = startsWithHeader(raw);
        boolean ours = slot.created
                || (slot.file.writable()
                        && held.links() == 1
                        && (held.uid() == DirectoryTrust.effectiveUid() || DirectoryTrust.groupShared())
                        && (raw.length == 0 || record));
        if (!ours) {
            return new Held(path, request.mode(), 0, slot, "", this);
        }
        long previous = raw.length == 0 ? 0 : records.previousGeneration(path, raw);
        if (request.mode() == LockMode.SHARED) {
            return new Held(path, LockMode.SHARED, previous, slot, "", this);
        }
        OwnerRecord mine = records.exclusiveRecord(path, previous + 1, request.operation());
        try {
            slot.file.write(mine.encode().bytes(), 0);
        } catch (IOException e) {
            throw new LockIOException(
                    "write owner record",
                    path,
                    "the lock was not taken; check free space and permissions of the lock directory",
                    e);
        }
        return new Held(path, LockMode.EXCLUSIVE, previous + 1, slot, mine.token(), this);
    }

    @Override
    public final void release(HeldLock lock) throws IOException {
        Held held = (Held) lock;
        String lost = held.recordToken.isEmpty() ? "" : takenOver(held);
        try {
            held.slot.file.unlock();
        } catch (IOException e) {
            files.discard(held.slot); // closing drops the lock all the same
            throw e;
        }
        release(held.slot);
        if (!lost.isEmpty()) {
            throw new LockLostException(held.path(), lost);
        }
    }

    /**
     * Reads the owner record without locking, through the path's open file (opened without creating if there is
     * none), so that no descriptor of a locked file is opened and closed beside the lock.
     */
    @Override
    public LockOwner readOwner(Path lockFile) {
        if (!availability().available()) {
            return LockProvider.readOwnerRecordFile(lockFile);
        }
        OpenLockFiles.Slot slot;
        try {
            slot = files.borrow(lockFile, false);
        } catch (NoSuchFileException e) {
            return new LockOwner.Absent();
        } catch (UnsafePathException e) {
            return new LockOwner.Unreadable(e.reason());
        } catch (IOException | RuntimeException e) {
            return new LockOwner.Unreadable("cannot read " + lockFile + ": " + e);
        }
        try {
            byte[] raw = readRecord(slot);
            if (raw.length > 0 && !startsWithHeader(raw)) {
                return new LockOwner.Unreadable(
                        "not an owner record: a file lockcache did not create, locked as it is and never written");
            }
            return OwnerRecord.parse(raw, raw.length);
        } catch (IOException e) {
            return new LockOwner.Unreadable("cannot read " + lockFile + ": " + e);
        } finally {
            if (!slot.file.isOpen()) {
                files.discard(slot);
            } else {
                files.giveBack(slot);
            }
        }
    }

    /** Closes every idle lock file and directory this provider keeps open. */
    @Override
    public void close() {
        files.close();
    }

    /** Open lock files right now (for tests of the bound). */
    protected final int openFiles() {
        return files.openFiles();
    }

    private void requireAvailable() {
        if (!availability().available()) {
            throw new IllegalStateException("the " + name + " provider is unavailable here: "
                    + availability().reason());
        }
    }

    private void release(OpenLockFiles.Slot slot) {
        if (slot.file.isOpen()) {
            files.giveBack(slot);
        } else {
            files.discard(slot);
        }
    }

    /** Drops a slot that may hold the lock: unlock (best effort) and discard, never throwing. */
    private void abandon(OpenLockFiles.Slot slot, boolean locked) {
        if (locked && slot.file.isOpen()) {
            try {
                slot.file.unlock();
            } catch (IOException e) {
                // the close that discarding leads to drops this file's lock anyway
            }
        }
        files.discard(slot);
    }

    /** The record's bytes: one small read, a second only for an unusually long record; at most MAX_BYTES + 1. */
    private static byte[] readRecord(OpenLockFiles.Slot slot) throws IOException {
        byte[] raw = new byte[OwnerRecordSlot.TYPICAL_BYTES];
        int length = readFully(slot.file, raw);
        if (length == raw.length) {
            raw = new byte[OwnerRecord.MAX_BYTES + 1];
            length = readFully(slot.file, raw);
        }
        return length == raw.length ? raw : Arrays.copyOf(raw, length);
    }

    private static int readFully(KernelFile file, byte[] buffer) throws IOException {
        int total = 0;
        while (total < buffer.length) {
            byte[] chunk = total == 0 ? buffer : new byte[buffer.length - total];
            int n = file.read(chunk, total);
            if (n <= 0) {
                break;
            }
            if (chunk != buffer) {
                System.arraycopy(chunk, 0, buffer, total, n);
            }
            total += n;
            if (n < chunk.length) {
                break; // a short read of a regular file is its end
            }
        }
        return total;
    }

    private static boolean startsWithHeader(byte[] raw) {
        if (raw.length < RECORD_HEADER.length) {
            return false;
        }
        for (int i = 0; i < RECORD_HEADER.length; i++) {
            if (raw[i] != RECORD_HEADER[i]) {
                return false;
            }
        }
        return true;
    }

    private String takenOver(Held held) {
        try {
            byte[] raw = readRecord(held.slot);
            if (OwnerRecordSlot.carriesToken(raw, held.recordToken)) {
                return ""; // still our record: the common case, decided without parsing
            }
            LockOwner now = OwnerRecord.parse(raw, raw.length);
            if (now instanceof LockOwner.Known known) {
                return "another holder wrote its owner record while this exclusive lock was held (" + known.describe()
                        + "); a process locked the path through a mechanism that does not exclude " + name;
            }
            return "the owner record was overwritten while this exclusive lock was held";
        } catch (IOException e) {
            return ""; // cannot tell; the release itself goes on
        }
    }

    /** A lock taken through the base. */
    private static final class Held implements HeldLock {
        private final Path path;
        private final LockMode mode;
        private final long token;
        final OpenLockFiles.Slot slot;
        final String recordToken;
        private final KernelLockProvider provider;

        Held(
                Path path,
                LockMode mode,
                long token,
                OpenLockFiles.Slot slot,
                String recordToken,
                KernelLockProvider provider) {
            this.path = path;
            this.mode = mode;
            this.token = token;
            this.slot = slot;
            this.recordToken = recordToken;
            this.provider = provider;
        }

        @Override
        public Path path() {
            return path;
        }

        @Override
        public LockMode mode() {
            return mode;
        }

        @Override
        public long fencingToken() {
            return token;
        }

        @Override
        public OptionalInt inheritableDescriptor() {
            return slot.file.descriptor();
        }

        @Override
        public String toString() {
            return provider.name + " lock on " + path + " (" + mode + ", token " + token
                    + (recordToken.isEmpty() ? ", no record" : "") + ")";
        }
    }
}
