package dev.lockcache.lock.spi;

import dev.lockcache.lock.LockIOException;
import dev.lockcache.lock.LockMode;
import dev.lockcache.lock.LockOwner;
import dev.lockcache.lock.OwnerRecord;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one JVM-wide registry through which every lock file that may carry a POSIX {@code fcntl} lock is opened,
 * read, locked and closed.
 *
 * <p>Why it exists: {@code fcntl} record locks (what {@link FileChannel#lock} takes on POSIX systems) belong to
 * the <em>process</em>, and closing <em>any</em> descriptor of a file drops every {@code fcntl} lock the process
 * holds on it. So a second {@code open}/{@code close} of a lock file anywhere in the JVM (reading the owner
 * record, a probe, another provider) can silently release a lock that a thread believes it holds. This class
 * keeps one open file per real path, reference counted through {@link Lease}s, and closes a file only when no
 * lease is out for its path, which is when no lock is held through it. Idle files (no lease) stay open, up to
 * a bound ({@value #DEFAULT_IDLE_LIMIT}, or {@link #IDLE_LIMIT_PROPERTY}), because opening costs more than
 * locking; beyond it the least recently used idle file is closed.
 *
 * <p>Files are opened read-write and created if missing; a file this process may not write is opened read-only
 * instead, and then only shared locks can be taken through it. Owner records are read and written through the
 * registered file with non-interruptible positioned I/O: an interruptible {@code FileChannel} read would close
 * the channel when the reading thread is interrupted, and with it drop the process's locks.
 *
 * <p>Blocking waits ({@link Lease#awaitLock}) use a private file of their own, because a blocked {@link
 * FileChannel#lock} is ended only by closing its channel (timeout) or interrupting its thread (which closes it
 * too): the private file carries no lock of this JVM while it waits (the in-JVM lock table lets only one thread
 * of the JVM deal with a path's OS lock at a time, and none holds it then), so closing it drops nothing. When
 * the wait succeeds, the private file becomes the registered file for the path and the old one is closed once
 * no lease is out.
 *
 * <p>Thread-safe. Paths are real paths as {@link LockRequest#path()} gives them; two different paths that name
 * one file (hard links) are not recognised as one.
 */
public final class FcntlChannels {

    /** System property: how many idle lock files stay open (default {@value #DEFAULT_IDLE_LIMIT}). */
    public static final String IDLE_LIMIT_PROPERTY = "lockcache.fcntl.idleChannels";

    /** The default number of idle lock files kept open. */
    public static final int DEFAULT_IDLE_LIMIT = 256;

    private static final Logger LOG = LoggerFactory.getLogger(FcntlChannels.class);
    private static final int MAX_OPEN_ATTEMPTS = 32;
    private static final FcntlChannels JVM = new FcntlChannels(idleLimitFromProperty());
    private static final ScheduledThreadPoolExecutor TIMER = newTimer();

    private final int idleLimit;
    // Lock order: an entry's monitor may be held while taking `registry`, never the other way round.
    private final Object registry = new Object();
    private final Map<Path, Entry> entries = new HashMap<>(); // guarded by registry
    private final LinkedHashMap<Path, Entry> idle = new LinkedHashMap<>(); // guarded by registry, oldest first
    private final AtomicInteger openFiles = new AtomicInteger();

    FcntlChannels(int idleLimit) {
        if (idleLimit < 0) {
            throw new IllegalArgumentException("idle limit must not be negative, was " + idleLimit);
        }
        this.idleLimit = idleLimit;
    }

    /** The registry of this JVM; every user of {@code fcntl} locks must go through this one instance. */
    public static FcntlChannels jvm() {
        return JVM;
    }

    /**
     * Leases the registered file of {@code path}, opening (and creating) it if needed. Close the lease when
     * done; a lock taken through it must be released before.
     *
     * @throws IOException if the file cannot be opened even read-only
     */
    public Lease open(Path path) throws IOException {
        return open(path, true);
    }

    /**
     * Reads the owner record at {@code path} through the registered file, never opening or closing a second
     * descriptor of a file this JVM may hold locked, and never creating a missing file.
     */
    public LockOwner readOwner(Path path) {
        try (Lease lease = open(path, false)) {
            return lease.readOwner();
        } catch (NoSuchFileException e) {
            return new LockOwner.Absent();
        } catch (IOException e) {
            return new LockOwner.Unreadable("cannot read " + path + ": " + e);
        }
    }

    /**
     * Closes a descriptor of {@code path} that was opened outside this registry (a {@code flock} descriptor,
     * say), but only once no lease on the path is out, so that the close cannot drop an {@code fcntl} lock this
     * JVM holds on the file: at once if none is out, else when the last lease is returned. Every close of a
     * descriptor of a lock file that fcntl users may lock in this JVM should go through here.
     *
     * @param closer closes the descriptor; runs exactly once, on this or another thread, and should not throw
     */
    public void closeWhenUnlocked(Path path, Runnable closer) {
        if (path == null || closer == null) {
            throw new IllegalArgumentException("path and closer must not be null");
        }
        Entry entry;
        synchronized (registry) {
            entry = entries.computeIfAbsent(path, Entry::new);
            entry.refs++;
            idle.remove(path);
        }
        synchronized (entry) {
            entry.retired.add(closer);
        }
        unpin(entry);
    }

    /** How many files (descriptors) this registry has open right now, leased or idle. */
    public int openFiles() {
        return openFiles.get();
    }

    /** How many paths have an idle registered file right now (never more than the idle limit). */
    public int idleFiles() {
        synchronized (registry) {
            return idle.size();
        }
    }

    private Lease open(Path path, boolean create) throws IOException {
        if (path == null) {
            throw new IllegalArgumentException("path must not be null");
        }
        Entry entry;
        synchronized (registry) {
            entry = entries.computeIfAbsent(path, Entry::new);
            entry.refs++;
            idle.remove(path);
        }
        boolean leased = false;
        try {
            LockFile file;
            synchronized (entry) {
                if (entry.primary == null) {
                    entry.primary = openFile(path, create);
                }
                file = entry.primary;
            }
            leased = true;
            return new Lease(entry, file);
        } finally {
            if (!leased) {
                unpin(entry);
            }
        }
    }

    private void unpin(Entry entry) {
        List<Entry> evicted = new ArrayList<>();
        boolean unused;
        synchronized (registry) {
            unused = --entry.refs == 0;
            if (unused) {
                idle.put(entry.path, entry);
                Iterator<Entry> oldest = idle.values().iterator();
                while (idle.size() > idleLimit && oldest.hasNext()) {
                    evicted.add(oldest.next());
                    oldest.remove();
                }
            }
        }
        if (unused && !evicted.contains(entry)) {
            closeUnused(entry, false);
        }
        for (Entry victim : evicted) {
            closeUnused(victim, true);
        }
    }

    /**
     * Closes an entry's retired files (and its registered file when {@code evict}), but only if no lease is
     * out: a file is closed only by a thread that holds the entry's monitor and has seen no lease under the
     * registry lock; a new lease waits for that monitor before it gets a file, so it never sees a file that is
     * being closed.
     */
    private void closeUnused(Entry entry, boolean evict) {
        synchronized (entry) {
            synchronized (registry) {
                if (entry.refs != 0) {
                    return;
                }
            }
            for (Runnable closer : entry.retired) {
                try {
                    closer.run();
                } catch (RuntimeException e) {
                    LOG.warn("closing a descriptor of lock file {} failed", entry.path, e);
                }
            }
            entry.retired.clear();
            if (evict && entry.primary != null) {
                entry.primary.close();
                entry.primary = null;
            }
            synchronized (registry) {
                if (evict && entry.refs == 0 && !idle.containsKey(entry.path)) {
                    entries.remove(entry.path, entry);
                }
            }
        }
    }

    /**
     * Opens {@code path} and learns which file it opened: the path's file key before and after the open must
     * agree, so the key stands for the opened file (unless the path was replaced and put back in between).
     */
    private LockFile openFile(Path path, boolean create) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Optional<BasicFileAttributes> before = attributes(path);
            if (before.isEmpty() && !create) {
                throw new NoSuchFileException(path.toString());
            }
            LockFile file = LockFile.open(path, create, this);
            Optional<BasicFileAttributes> after = attributes(path);
            Object key = after.map(BasicFileAttributes::fileKey).orElse(null);
            boolean settled = before.isPresent()
                    && after.isPresent()
                    && (key == null || key.equals(before.get().fileKey()));
            if (settled) {
                file.key = key;
                return file;
            }
            file.close(); // a fresh file that carries no lock: the path is not locked in this JVM now
            if (attempt == MAX_OPEN_ATTEMPTS) {
                throw new FileSystemException(
                        path.toString(), null, "the lock file keeps being replaced or removed while it is opened");
            }
        }
    }

    private static Optional<BasicFileAttributes> attributes(Path path) throws IOException {
        try {
            return Optional.of(Files.readAttributes(path, BasicFileAttributes.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static int idleLimitFromProperty() {
        String value = System.getProperty(IDLE_LIMIT_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_IDLE_LIMIT;
        }
        try {
            return Math.max(0, Integer.parseInt(value.strip()));
        } catch (NumberFormatException e) {
            LOG.warn("ignoring -D{}={}: not a number; using {}", IDLE_LIMIT_PROPERTY, value, DEFAULT_IDLE_LIMIT);
            return DEFAULT_IDLE_LIMIT;
        }
    }

    private static ScheduledThreadPoolExecutor newTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "lockcache-fcntl-wait-timer");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /** One path's registered file, the files retired from it, and how many leases are out. */
    private static final class Entry {
        final Path path;
        int refs; // guarded by the registry lock
        LockFile primary; // guarded by this
        final List<Runnable> retired = new ArrayList<>(1); // closers, guarded by this

        Entry(Path path) {
            this.path = path;
        }
    }

    /** An open lock file: a {@link RandomAccessFile} for non-interruptible I/O and its channel for locks. */
    private static final class LockFile {
        final RandomAccessFile file;
        final FileChannel channel;
        final boolean writable;
        final FcntlChannels owner;
        final AtomicBoolean closeCounted = new AtomicBoolean();
        Object key;

        private LockFile(RandomAccessFile file, boolean writable, FcntlChannels owner) {
            this.file = file;
            this.channel = file.getChannel();
            this.writable = writable;
            this.owner = owner;
            owner.openFiles.incrementAndGet();
        }

        static LockFile open(Path path, boolean create, FcntlChannels owner) throws IOException {
            try {
                if (create || Files.isWritable(path)) {
                    return new LockFile(new RandomAccessFile(path.toFile(), "rw"), true, owner);
                }
            } catch (FileNotFoundException e) {
                if (!Files.isRegularFile(path)) {
                    throw explain(path, e);
                }
            }
            try {
                return new LockFile(new RandomAccessFile(path.toFile(), "r"), false, owner);
            } catch (FileNotFoundException e) {
                throw explain(path, e);
            }
        }

        /** {@link RandomAccessFile} reports every failure as "not found"; say what it really was. */
        private static IOException explain(Path path, FileNotFoundException e) {
            IOException explained;
            if (Files.isDirectory(path)) {
                explained = new FileSystemException(path.toString(), null, "is a directory, not a lock file");
            } else if (!Files.exists(path) && !Files.isDirectory(path.getParent())) {
                explained = new NoSuchFileException(path.toString(), null, "the directory does not exist");
            } else if (!Files.exists(path)) {
                explained = new AccessDeniedException(
                        path.toString(), null, "cannot create the lock file (" + e.getMessage() + ")");
            } else {
                explained = new AccessDeniedException(path.toString(), null, e.getMessage());
            }
            explained.initCause(e);
            return explained;
        }

        /** Reads up to {@code buffer.length} bytes from offset 0; returns how many. */
        int readFromStart(byte[] buffer) throws IOException {
            synchronized (this) {
                file.seek(0);
                int total = 0;
                while (total < buffer.length) {
                    int n = file.read(buffer, total, buffer.length - total);
                    if (n < 0) {
                        break;
                    }
                    total += n;
                }
                return total;
            }
        }

        void writeAtStart(byte[] bytes) throws IOException {
            synchronized (this) {
                file.seek(0);
                file.write(bytes);
            }
        }

        /**
         * Closes the channel, which closes the file, and returns only when the close is complete, also when
         * another thread started it ({@link FileChannel#close} waits for a close in progress).
         */
        void close() {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing a lock file failed", e);
            } finally {
                if (!channel.isOpen() && closeCounted.compareAndSet(false, true)) {
                    owner.openFiles.decrementAndGet();
                }
            }
        }
    }

    /**
     * One use of a path's registered file: take locks through it, read and write the owner record through it,
     * then close the lease. A lease is used by one thread at a time (the lock it carries may be released from
     * another thread, before the lease is closed).
     */
    public final class Lease implements AutoCloseable {
        private final Entry entry;
        private LockFile file;
        private boolean closed;

        private Lease(Entry entry, LockFile file) {
            this.entry = entry;
            this.file = file;
        }

        /** The lock file's path. */
        public Path path() {
            return entry.path;
        }

        /** Whether the file is open for writing; if not, only shared locks can be taken. */
        public boolean writable() {
            return file.writable;
        }

        /**
         * Tries once to lock the whole file. Empty when another process holds it in a conflicting mode, or when
         * this JVM holds it through a path the in-JVM table does not know (a hard link, code outside lockcache).
         *
         * @throws LockIOException when an exclusive lock is asked of a read-only file
         */
        public Optional<FileLock> tryLock(LockMode mode) throws IOException {
            requireWritableFor(mode);
            try {
                return Optional.ofNullable(file.channel.tryLock(0, Long.MAX_VALUE, mode == LockMode.SHARED));
            } catch (OverlappingFileLockException e) {
                LOG.debug("{} is locked elsewhere in this JVM (outside the lock table)", entry.path);
                return Optional.empty();
            }
        }

        /**
         * Waits in the kernel for the lock, at most {@code timeoutNanos} ({@link Long#MAX_VALUE}: no limit), on a
         * private file, so that ending the wait (by timeout or interrupt, both of which close it) drops no lock
         * anyone depends on. On success the private file becomes the registered file of the path and of this
         * lease. Call it only while this JVM holds no lock on the path.
         *
         * @return the lock, or empty when the time ran out (nothing held)
         * @throws InterruptedException when interrupted; nothing held, the interrupt status is cleared
         */
        public Optional<FileLock> awaitLock(LockMode mode, long timeoutNanos) throws IOException, InterruptedException {
            requireWritableFor(mode);
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted before waiting for lock " + entry.path);
            }
            if (timeoutNanos <= 0) {
                return Optional.empty();
            }
            LockFile waiter = owner().openFile(entry.path, true);
            if (mode == LockMode.EXCLUSIVE && !waiter.writable) {
                waiter.close();
                throw readOnly();
            }
            KernelWait wait = new KernelWait(waiter);
            ScheduledFuture<?> timer = timeoutNanos == Long.MAX_VALUE
                    ? null
                    : TIMER.schedule(wait::expire, timeoutNanos, TimeUnit.NANOSECONDS);
            FileLock lock;
            try {
                lock = waiter.channel.lock(0, Long.MAX_VALUE, mode == LockMode.SHARED);
            } catch (ClosedByInterruptException | FileLockInterruptionException e) {
                wait.abandon();
                Thread.interrupted();
                throw new InterruptedException("interrupted while waiting for lock " + entry.path);
            } catch (ClosedChannelException e) {
                // closed by the timer: the time is up. AsynchronousCloseException when it closed the file
                // during the wait, plain ClosedChannelException when it fired before lock() was entered
                wait.abandon();
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while waiting for lock " + entry.path);
                }
                return Optional.empty();
            } catch (OverlappingFileLockException e) {
                wait.abandon();
                LOG.debug("{} is locked elsewhere in this JVM (outside the lock table)", entry.path);
                return Optional.empty();
            } catch (IOException | RuntimeException e) {
                wait.abandon();
                throw e;
            } finally {
                if (timer != null) {
                    timer.cancel(false);
                }
            }
            if (lock == null || !wait.claim()) {
                wait.abandon(); // the timer closed the file as the lock came, which dropped it
                return Optional.empty();
            }
            synchronized (entry) {
                if (entry.primary != null && entry.primary != waiter) {
                    entry.retired.add(entry.primary::close);
                }
                entry.primary = waiter;
            }
            file = waiter;
            return Optional.of(lock);
        }

        /**
         * Whether the path still names the file this lease has open (the lock file was not replaced or
         * removed). Always true where the platform has no file keys.
         */
        public boolean stillNamesPath() throws IOException {
            if (file.key == null) {
                return true;
            }
            Optional<BasicFileAttributes> now = attributes(entry.path);
            return now.isPresent() && file.key.equals(now.get().fileKey());
        }

        /**
         * Stops using this lease's file for the path (it was found replaced): the next lease opens the path
         * afresh. Release any lock taken through this lease first; the file is closed once no lease is out.
         */
        public void markReplaced() {
            synchronized (entry) {
                if (entry.primary == file) {
                    entry.retired.add(file::close);
                    entry.primary = null;
                }
            }
        }

        /** Reads the owner record through this lease's file. */
        public LockOwner readOwner() throws IOException {
            byte[] buffer = new byte[OwnerRecord.MAX_BYTES + 1];
            int length = file.readFromStart(buffer);
            return OwnerRecord.parse(buffer, length);
        }

        /** Reads the first bytes of the file (at most {@code max}) through this lease's file. */
        public byte[] readStart(int max) throws IOException {
            byte[] buffer = new byte[max];
            int length = file.readFromStart(buffer);
            return length == max ? buffer : Arrays.copyOf(buffer, length);
        }

        /**
         * Writes {@code record} at offset 0 with one write, through this lease's file. Records end with an
         * {@code end} line, so a shorter record needs no truncation.
         */
        public void writeAtStart(byte[] record) throws IOException {
            requireWritable();
            file.writeAtStart(record);
        }

        /** Returns the lease. Idempotent. Release locks taken through it first. */
        @Override
        public void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            unpin(entry);
        }

        private FcntlChannels owner() {
            return FcntlChannels.this;
        }

        private void requireWritableFor(LockMode mode) {
            if (mode == LockMode.EXCLUSIVE) {
                requireWritable();
            }
        }

        private void requireWritable() {
            if (!file.writable) {
                throw readOnly();
            }
        }

        private LockIOException readOnly() {
            return new LockIOException(
                    "lock",
                    entry.path,
                    "the lock file is read-only for this process, so it can only be locked shared; make it"
                            + " writable (for example chmod g+w for a group-shared cache) or ask for a shared lock",
                    new AccessDeniedException(entry.path.toString()));
        }
    }

    /** The race between a blocked waiter getting its lock and the timer ending the wait, settled once. */
    private static final class KernelWait {
        private static final int WAITING = 0;
        private static final int CLAIMED = 1;
        private static final int ENDED = 2;
        private final AtomicInteger state = new AtomicInteger(WAITING);
        private final LockFile waiter;

        KernelWait(LockFile waiter) {
            this.waiter = waiter;
        }

        /** The timer: end the wait by closing the private file, unless the waiter already claimed the lock. */
        void expire() {
            if (state.compareAndSet(WAITING, ENDED)) {
                waiter.close();
            }
        }

        /** The waiter got the lock: keep it, unless the timer ended the wait first. */
        boolean claim() {
            return state.compareAndSet(WAITING, CLAIMED);
        }

        /** The wait ended without a lock: close the private file, waiting for a close already in progress. */
        void abandon() {
            state.set(ENDED);
            waiter.close();
        }
    }
}
