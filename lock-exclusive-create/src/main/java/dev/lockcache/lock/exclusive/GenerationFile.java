package dev.lockcache.lock.exclusive;

import dev.lockcache.lock.UnsafePathException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fencing tokens of a lock, kept beside it in {@code <lock>.gen}: every generation ever issued is appended
 * as a line (19 digits), and the last generation issued is the largest line. The race this class owns is "two
 * acquisitions get the same token":
 *
 * <ul>
 *   <li>a holder reads the largest generation only once it holds the lock, takes the next one, and
 *       <em>appends</em> it (one {@code O_APPEND} write, atomic against other appends) before it checks that
 *       it still holds the lock; only then is the token issued ({@link RecordPublisher}). A holder paused and
 *       broken before that check never issues its token; a holder broken after it had already appended its
 *       generation, so the next holder, who reads the file only once it holds the lock, gets a larger one;
 *   <li>appending, unlike rewriting in place, never lowers the largest value, so a holder that was broken
 *       while paused between reading and writing cannot take the token back below a newer holder's;
 *   <li>once the file grows past {@value #COMPACT_AT} bytes the holder replaces it (temporary file and rename)
 *       with one line, the largest, right after it checked that it holds the lock.
 * </ul>
 *
 * <p>Reading is lenient and bounded: the last {@value #MAX_READ} bytes count, leading digits of each line
 * count, anything else (an empty or damaged file) reads as what this JVM last issued for the lock, or 0; so a
 * damaged file never makes the token go backwards in this JVM. The file is created with lockcache's file
 * mode, is never followed if it is a link, never opened unless it is a regular file this process may trust
 * (see {@link LockDirectory#requireSafe}).
 */
final class GenerationFile {

    private static final int WIDTH = 19;
    private static final int MAX_REMEMBERED = 1024;
    static final int COMPACT_AT = 4096;
    static final int MAX_READ = 65536;

    /** The last generation issued per lock in this JVM: the floor, and the guess for the next record. */
    private final ConcurrentHashMap<Path, Long> lastIssued = new ConcurrentHashMap<>();

    /** Where the generation of {@code lockPath} is kept. */
    static Path pathFor(Path lockPath) {
        return lockPath.resolveSibling(nameFor(lockPath.getFileName().toString()));
    }

    /** The name of the generation file of the lock named {@code lockName}. */
    static String nameFor(String lockName) {
        return lockName + ".gen";
    }

    /** The generation this JVM expects the next acquisition of {@code lockPath} to get. */
    long guessNext(Path lockPath) {
        return lastIssued.getOrDefault(lockPath, 0L) + 1;
    }

    /** The next generation of the lock: one more than every one issued so far. Call only while holding it. */
    long next(LockDirectory directory, Path lockPath) throws IOException {
        long last =
                Math.max(readLast(directory, lockPath.getFileName().toString()), lastIssued.getOrDefault(lockPath, 0L));
        return last == Long.MAX_VALUE ? last : last + 1;
    }

    /** Appends {@code generation} to the file (creating it), before the holder checks it still holds the lock. */
    void append(LockDirectory directory, Path lockPath, long generation) throws IOException {
        String name = nameFor(lockPath.getFileName().toString());
        byte[] line =
                ("\n" + new String(format(generation), StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);
        try (FileChannel channel = openForAppend(directory, name)) {
            ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
        if (lastIssued.size() >= MAX_REMEMBERED) {
            lastIssued.clear();
        }
        lastIssued.merge(lockPath, generation, Math::max);
    }

    /**
     * Replaces a file grown past {@value #COMPACT_AT} bytes with its largest line. Call only while holding the
     * lock, right after checking it is held.
     */
    void compactIfLarge(LockDirectory directory, Path lockPath, String token) throws IOException {
        String name = nameFor(lockPath.getFileName().toString());
        Optional<LockDirectory.Entry> entry = directory.stat(name);
        if (entry.isEmpty() || entry.get().size() <= COMPACT_AT) {
            return;
        }
        long last = readLast(directory, lockPath.getFileName().toString());
        String temp = "." + name + "." + token + ".tmp";
        try (FileChannel channel = directory.create(temp)) {
            RecordPublisher.writeFully(channel, format(last), 0);
        } catch (IOException | RuntimeException e) {
            directory.deleteIfExists(temp);
            throw e;
        }
        try {
            directory.rename(temp, name);
        } catch (IOException | RuntimeException e) {
            directory.deleteIfExists(temp);
            throw e;
        }
    }

    /** The largest generation in the file of the lock named {@code lockName}; 0 when there is none. */
    static long readLast(LockDirectory directory, String lockName) throws IOException {
        String name = nameFor(lockName);
        FileChannel channel = null;
        for (int attempt = 0; channel == null; attempt++) {
            Optional<LockDirectory.Entry> entry = directory.stat(name);
            if (entry.isEmpty()) {
                return 0;
            }
            directory.requireSafe(name, entry.get(), "generation file");
            try {
                channel = directory.openExisting(name, entry.get(), false);
            } catch (NoSuchFileException | LockDirectory.ReplacedException e) {
                if (attempt >= 8) {
                    throw e; // a holder compacts it at most once per hold
                }
            }
        }
        try (FileChannel opened = channel) {
            long size = opened.size();
            long from = Math.max(0, size - MAX_READ);
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(MAX_READ, Math.max(0, size - from)) + 1);
            while (buffer.hasRemaining()) {
                int read;
                try {
                    read = opened.read(buffer, from + buffer.position());
                } catch (IOException e) {
                    if (String.valueOf(e.getMessage()).contains("Illegal seek")) {
                        throw new UnsafePathException(
                                directory.resolve(name), "the generation file is not a regular file", "remove it");
                    }
                    throw e;
                }
                if (read <= 0) {
                    break;
                }
            }
            return parseLargest(buffer.array(), buffer.position());
        }
    }

    private static FileChannel openForAppend(LockDirectory directory, String name) throws IOException {
        Set<java.nio.file.OpenOption> append =
                Set.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
        Optional<LockDirectory.Entry> entry = directory.stat(name);
        if (entry.isEmpty()) {
            try {
                return directory.create(name, append);
            } catch (FileAlreadyExistsException e) {
                entry = directory.stat(name);
                if (entry.isEmpty()) {
                    throw e;
                }
            }
        }
        directory.requireSafe(name, entry.get(), "generation file");
        return directory.openExisting(name, entry.get(), append);
    }

    /** The largest of the leading-digit values of the lines in {@code bytes[0..length)}. */
    static long parseLargest(byte[] bytes, int length) {
        long largest = 0;
        int start = 0;
        for (int i = 0; i <= length; i++) {
            if (i == length || bytes[i] == '\n') {
                largest = Math.max(largest, parse(java.util.Arrays.copyOfRange(bytes, start, i), i - start));
                start = i + 1;
            }
        }
        return largest;
    }

    /** The leading decimal digits of {@code bytes}, or 0 if there are none; saturates instead of overflowing. */
    static long parse(byte[] bytes, int length) {
        long value = 0;
        for (int i = 0; i < length && i < WIDTH; i++) {
            int digit = bytes[i] - '0';
            if (digit < 0 || digit > 9) {
                break;
            }
            value = value > (Long.MAX_VALUE - digit) / 10 ? Long.MAX_VALUE : value * 10 + digit;
        }
        return value;
    }

    /** The file form of {@code generation}: 19 digits and a newline. */
    static byte[] format(long generation) {
        String digits = Long.toString(generation);
        return ("0".repeat(Math.max(0, WIDTH - digits.length())) + digits + "\n").getBytes(StandardCharsets.US_ASCII);
    }
}
