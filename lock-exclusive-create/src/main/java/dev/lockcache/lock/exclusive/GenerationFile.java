package dev.lockcache.lock.exclusive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fencing token of a lock, kept beside it in {@code <lock>.gen}: the last generation issued, as 19 digits
 * and a newline, rewritten in place with one positioned write by each new holder while it holds the lock.
 *
 * <p>Reading is lenient: leading digits count, anything else (an empty or damaged file) reads as what this
 * JVM last issued for the lock, or 0; so a damaged file never makes the token go backwards in this JVM.
 */
final class GenerationFile {

    private static final int WIDTH = 19;
    private static final int MAX_REMEMBERED = 1024;

    /** The last generation issued per lock in this JVM: the floor, and the guess for the next record. */
    private final ConcurrentHashMap<Path, Long> lastIssued = new ConcurrentHashMap<>();

    /** Where the generation of {@code lockPath} is kept. */
    static Path pathFor(Path lockPath) {
        return lockPath.resolveSibling(lockPath.getFileName() + ".gen");
    }

    /** The generation this JVM expects the next acquisition of {@code lockPath} to get. */
    long guessNext(Path lockPath) {
        return lastIssued.getOrDefault(lockPath, 0L) + 1;
    }

    /**
     * Issues the next generation of {@code lockPath}: reads the file, adds one, writes it back. Call only
     * while holding the lock.
     */
    long advance(Path lockPath) throws IOException {
        try (FileChannel channel = FileChannel.open(
                pathFor(lockPath), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.allocate(WIDTH + 1);
            while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
                // read until full or end of file
            }
            long floor = lastIssued.getOrDefault(lockPath, 0L);
            long previous = Math.max(parse(buffer.array(), buffer.position()), floor);
            long next = previous == Long.MAX_VALUE ? previous : previous + 1;
            ByteBuffer out = ByteBuffer.wrap(format(next));
            while (out.hasRemaining()) {
                channel.write(out, out.position());
            }
            if (lastIssued.size() >= MAX_REMEMBERED) {
                lastIssued.clear();
            }
            lastIssued.put(lockPath, next);
            return next;
        }
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
