package dev.lockcache.lock.spi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.spi.AbstractInterruptibleChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A blocking lock call ({@code flock(LOCK_EX)}, {@code F_OFD_SETLKW}) made in the caller's own thread that still
 * honours a timeout and {@link Thread#interrupt()}, which a thread blocked in native code otherwise ignores.
 *
 * <p>How: at the deadline, or when the thread is interrupted (the interrupt reaches us through {@link
 * AbstractInterruptibleChannel}'s public {@code begin}/{@code end} protocol), the blocked thread is sent the
 * signal the JDK itself uses to wake threads blocked in I/O ({@code SIGRTMAX-2} on Linux). The JDK installs a
 * no-op handler for it without {@code SA_RESTART}, so the call returns {@code EINTR}; the signal is re-sent
 * every {@value #RESEND_MICROS} µs until the thread has left the call (a signal that arrives just before the
 * call starts is otherwise lost). That signal is a JDK internal: {@link #usable()} checks, once, that this JVM
 * really catches it (from {@code /proc/self/status}, after touching a {@link FileChannel} so that the JDK has
 * installed its handler); where it does not, {@link #poll} is the fallback: non-blocking tries with capped
 * backoff.
 *
 * <p>The hand-off then costs what the kernel costs: the releasing process's unlock wakes this thread directly,
 * with no helper thread between.
 */
public final class NativeWait {
    /** The JDK's I/O wake-up signal on Linux: {@code __SIGRTMAX - 2}. */
    public static final int WAKE_SIGNAL = 64 - 2;

    private static final long RESEND_MICROS = 200;
    private static final ScheduledThreadPoolExecutor TIMER = newTimer();
    private static final boolean USABLE = checkUsable();

    private NativeWait() {}

    /** Sends the wake signal to a thread: what a mechanism binds {@code pthread_self}/{@code pthread_kill} to. */
    public interface ThreadSignals {
        /** The calling thread's native id ({@code pthread_self()}). */
        long currentThread();

        /** Sends {@link #WAKE_SIGNAL} to {@code thread} ({@code pthread_kill}). */
        void wake(long thread);
    }

    /** One blocking call: {@code true} when it took the lock, {@code false} when a signal ended it ({@code EINTR}). */
    @FunctionalInterface
    public interface BlockingCall {
        boolean block() throws IOException;
    }

    /** Whether {@link #block} can be used in this JVM (Linux, and the JDK catches {@link #WAKE_SIGNAL}). */
    public static boolean usable() {
        return USABLE;
    }

    /**
     * Makes {@code call} in this thread, for at most {@code timeoutNanos} ({@link Long#MAX_VALUE}: no limit).
     *
     * @return {@code true} when the call took the lock; {@code false} when the time ran out first
     * @throws InterruptedException when the thread was interrupted before the call took the lock; if the lock
     *     was taken as the interrupt came, it is returned and the interrupt flag stays set
     */
    public static boolean block(ThreadSignals signals, long timeoutNanos, BlockingCall call)
            throws IOException, InterruptedException {
        if (!USABLE) {
            throw new IllegalStateException("the JDK's wake-up signal is not usable here; use NativeWait.poll");
        }
        long start = System.nanoTime();
        long self = signals.currentThread();
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for a lock");
            }
            long left = timeoutNanos == Long.MAX_VALUE ? Long.MAX_VALUE : timeoutNanos - (System.nanoTime() - start);
            if (left <= 0) {
                return false;
            }
            Waker waker = new Waker(signals, self);
            ScheduledFuture<?> timer =
                    left == Long.MAX_VALUE ? null : TIMER.schedule(waker::wakeUp, left, TimeUnit.NANOSECONDS);
            boolean taken = false;
            boolean interrupted;
            try {
                if (waker.enter()) {
                    taken = call.block();
                }
            } finally {
                interrupted = waker.leave();
                if (timer != null) {
                    timer.cancel(false);
                }
            }
            if (taken) {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                return true;
            }
            if (interrupted) {
                throw new InterruptedException("interrupted while waiting for a lock");
            }
            // woken by the timer (the loop sees the deadline) or by an unrelated signal: call again
        }
    }

    /**
     * The fallback wait: {@code attempt} (a non-blocking try) until it succeeds or {@code timeoutNanos} passes,
     * pausing 50 µs doubling to 10 ms between tries.
     */
    public static boolean poll(long timeoutNanos, BooleanSupplier attempt) throws InterruptedException {
        long start = System.nanoTime();
        long pause = TimeUnit.MICROSECONDS.toNanos(50);
        while (true) {
            if (attempt.getAsBoolean()) {
                return true;
            }
            long left = timeoutNanos == Long.MAX_VALUE ? Long.MAX_VALUE : timeoutNanos - (System.nanoTime() - start);
            if (left <= 0) {
                return false;
            }
            LockSupport.parkNanos(Math.min(pause, left));
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for a lock");
            }
            pause = Math.min(pause * 2, TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /**
     * One wait's wake-up: an interruptible "channel" whose close is how the JDK tells us of an interrupt, and the
     * loop that signals the blocked thread until it has left its call.
     */
    private static final class Waker extends AbstractInterruptibleChannel {
        private final ThreadSignals signals;
        private final long thread;
        // Both volatile: the waker writes wake then reads inCall, the waiter writes inCall then reads wake, so
        // at least one of them sees the other (a wake-up is never lost between the check and the call).
        private volatile boolean inCall;
        private volatile boolean wake;
        private volatile boolean interrupted;

        Waker(ThreadSignals signals, long thread) {
            this.signals = signals;
            this.thread = thread;
        }

        /** Whether the call may start: not if a wake-up (deadline, interrupt) already came. */
        boolean enter() {
            begin(); // an interrupt from now on reaches implCloseChannel; one already pending does so at once
            inCall = true;
            return !wake;
        }

        /** Leaves the call; returns whether the thread was interrupted meanwhile. */
        boolean leave() {
            inCall = false;
            try {
                end(true);
            } catch (java.nio.channels.ClosedByInterruptException e) {
                interrupted = true;
            } catch (IOException e) {
                // AsynchronousCloseException cannot happen: nobody else closes this channel
            }
            return interrupted || Thread.currentThread().isInterrupted();
        }

        @Override
        protected void implCloseChannel() {
            interrupted = true;
            wakeUp(); // runs in the interrupting thread, as Thread.interrupt() does for the JDK's own channels
        }

        void wakeUp() {
            wake = true;
            while (inCall) {
                signals.wake(thread);
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(RESEND_MICROS));
            }
        }
    }

    private static boolean checkUsable() {
        if (!System.getProperty("os.name", "")
                .toLowerCase(java.util.Locale.ROOT)
                .startsWith("linux")) {
            return false;
        }
        if (Boolean.getBoolean("lockcache.nativeWait.disabled")) {
            return false;
        }
        Path status = Path.of("/proc/self/status");
        try (FileChannel channel = FileChannel.open(status, StandardOpenOption.READ)) {
            channel.read(ByteBuffer.allocate(1)); // a FileChannel read initialises the JDK's signal handler
        } catch (IOException e) {
            return false;
        }
        try {
            for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
                if (line.startsWith("SigCgt:")) {
                    long mask = Long.parseUnsignedLong(
                            line.substring("SigCgt:".length()).strip(), 16);
                    return (mask & (1L << (WAKE_SIGNAL - 1))) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    private static ScheduledThreadPoolExecutor newTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "lockcache-wait-timer");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }
}
