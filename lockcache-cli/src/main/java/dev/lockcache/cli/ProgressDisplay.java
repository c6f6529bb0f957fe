package dev.lockcache.cli;

import dev.lockcache.cache.ProgressListener;
import java.io.FileDescriptor;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
import jnr.posix.POSIXFactory;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * The fetch progress bar: drawn on stderr by the progressbar library, only when stderr is a terminal and
 * the download has gone on for more than {@link #SHOW_AFTER_NANOS}; quiet otherwise. Hears one fetch.
 */
final class ProgressDisplay implements ProgressListener, AutoCloseable {

    /** Downloads shorter than this show nothing. */
    static final long SHOW_AFTER_NANOS = 700_000_000L;

    private final BooleanSupplier terminal;
    private long firstNanos = -1;
    private boolean decided;
    private ProgressBar bar;

    private ProgressDisplay(BooleanSupplier terminal) {
        this.terminal = terminal;
    }

    /** A display on stderr, if stderr is a terminal. */
    static ProgressDisplay forStderr() {
        return new ProgressDisplay(ProgressDisplay::stderrIsTerminal);
    }

    @Override
    public synchronized void onProgress(String key, long bytes, OptionalLong total) {
        long now = System.nanoTime();
        if (firstNanos < 0) {
            firstNanos = now;
        }
        if (!decided) {
            if (now - firstNanos < SHOW_AFTER_NANOS) {
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
            return POSIXFactory.getNativePOSIX().isatty(FileDescriptor.err);
        } catch (RuntimeException | LinkageError e) {
            return false; // no native POSIX: stay quiet
        }
    }
}
