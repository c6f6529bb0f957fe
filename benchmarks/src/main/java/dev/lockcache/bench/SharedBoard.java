package dev.lockcache.bench;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A small array of {@code long} slots in a file that every process of one harness run maps into memory.
 * Reads and writes are volatile and {@link #add} is atomic, also between processes (they share the same
 * physical page), so the slots carry handshakes ("about to acquire", "holding round r") and time stamps
 * without any system call on the measured path.
 *
 * <p>Time stamps written here come from {@link System#nanoTime()}. On Linux that is {@code
 * clock_gettime(CLOCK_MONOTONIC)}, one clock for the whole machine, so a value taken in one JVM can be
 * subtracted from a value taken in another. That is what makes cross-process latencies measurable at all;
 * on other systems the harness's latencies would be meaningless.
 */
final class SharedBoard implements AutoCloseable {

    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private final FileChannel channel;
    private final ByteBuffer buffer;
    private final int slots;

    private SharedBoard(FileChannel channel, ByteBuffer buffer, int slots) {
        this.channel = channel;
        this.buffer = buffer;
        this.slots = slots;
    }

    /** Creates (or reuses) {@code file} with {@code slots} slots and maps it; a new file reads as zeros. */
    static SharedBoard map(Path file, int slots) throws IOException {
        if (slots <= 0 || slots > Integer.MAX_VALUE / Long.BYTES) {
            throw new IllegalArgumentException("a board needs at least one slot, asked for " + slots);
        }
        FileChannel channel =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_WRITE, 0, (long) slots * Long.BYTES);
            return new SharedBoard(channel, buffer, slots);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    long get(int slot) {
        return (long) LONGS.getVolatile(buffer, offset(slot));
    }

    void set(int slot, long value) {
        LONGS.setVolatile(buffer, offset(slot), value);
    }

    /** Adds atomically and returns the previous value. */
    long add(int slot, long delta) {
        return (long) LONGS.getAndAdd(buffer, offset(slot), delta);
    }

    /** Sets atomically and returns the previous value. */
    long swap(int slot, long value) {
        return (long) LONGS.getAndSet(buffer, offset(slot), value);
    }

    /**
     * Polls until {@code slot} holds at least {@code value}, spinning briefly and then parking for short
     * moments so two waiting processes on two cores do not starve the process they wait for.
     *
     * @throws IllegalStateException if {@code limitNanos} pass first (a liveness bound for a stuck peer)
     */
    void awaitAtLeast(int slot, long value, long limitNanos) {
        long start = System.nanoTime();
        for (int spins = 0; get(slot) < value; spins++) {
            if (spins < 200) {
                Thread.onSpinWait();
            } else {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000);
                if (System.nanoTime() - start > limitNanos) {
                    throw new IllegalStateException("slot " + slot + " of the harness board did not reach " + value
                            + " within " + limitNanos / 1_000_000 + " ms (it holds " + get(slot)
                            + "); a peer process is stuck or died");
                }
            }
        }
    }

    private int offset(int slot) {
        if (slot < 0 || slot >= slots) {
            throw new IndexOutOfBoundsException("board slot " + slot + " outside 0.." + (slots - 1));
        }
        return slot * Long.BYTES;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
