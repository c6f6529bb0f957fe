package dev.lockcache.cli;

import dev.lockcache.cache.ProgressListener;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
import jnr.posix.POSIXFactory;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * The fetch progress bar: drawn on stderr by the progressbar library, only when stderr is a terminal and
 * the download has gone on for more than {@link #SHOW_AFTER_NANOS} (or {@value #SHOW_AFTER_ENV}, a duration);
 * quiet otherwise. Hears one fetch.
 *
 * <p>The terminal test is {@code isatty(2)} on the descriptor number, which needs no reflective access to
 * {@link java.io.FileDescriptor} (so no {@code --add-opens} and no warning from jnr-posix).
 */
final class ProgressDisplay implements ProgressListener, AutoCloseable {

    /** Downloads shorter than this show nothing. */
    static final long SHOW_AFTER_NANOS = 700_000_000L;

    /** Environment variable that sets how long a download runs before the bar shows (default 700ms). */
    static final String SHOW_AFTER_ENV = "LOCKCACHE_PROGRESS_AFTER";

    private static final int STDERR = 2;

    private final BooleanSupplier terminal;
    private final long showAfterNanos;
    private long firstNanos = -1;
    private boolean decided;
    private ProgressBar bar;

    private ProgressDisplay(BooleanSupplier terminal, long showAfterNanos) {
        this.terminal = terminal;
        this.showAfterNanos = showAfterNanos;
    }

    /** A display on stderr, if stderr is a terminal. */
    static ProgressDisplay forStderr() {
        String after = System.getenv(SHOW_AFTER_ENV);
        long nanos = SHOW_AFTER_NANOS;
        if (after != null && !after.isBlank()) {
            try {
                nanos = DurationConverter.parse(after).toNanos();
            } catch (RuntimeException e) {
                throw new CommandFailure(ExitCode.USAGE, SHOW_AFTER_ENV + "=" + after + ": " + e.getMessage());
            }
        }
        return new ProgressDisplay(ProgressDisplay::stderrIsTerminal, nanos);
    }

    @Override
    public synchronized void onProgress(String key, long bytes, OptionalLong total) {
        long now = System.nanoTime();
        if (firstNanos < 0) {
            firstNanos = now;
        }
        if (!decided) {
            if (now - firstNanos < showAfterNanos) {
                return;
            }
            decided = true;
            if (terminal.getAsBoolean()) {
                bar = new ProgressBarBuilder()
                        .setTaskName(key.length() > 24 ? key.substring(0, 24) : key)
                        .setInitialMax(total.orElse(-1))
                        .setUnit("MiB", 1L << 20)
                        .showSpeed()
                        .setConsumer(new ConsoleProgressBarConsumer(System.err))
                        .build();
            }
        }
        if (bar != null) {
            if (total.isPresent()) {
                bar.maxHint(total.getAsLong());
            }
            bar.stepTo(bytes);
        }
    }

    @Override
    public synchronized void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    private static boolean stderrIsTerminal() {
        try {
            return POSIXFactory.getNativePOSIX().isatty(STDERR) == 1;
        } catch (RuntimeException | LinkageError e) {
            return false; // no native POSIX: stay quiet
        }
    }
}
