package dev.lockcache.cache;

import dev.lockcache.lock.Backoff;
import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Runs one filesystem step, retrying the failures that go away by themselves (a Windows sharing violation, an
 * NFS {@code ESTALE}, {@code EBUSY}, {@code ETXTBSY}) with capped, jittered exponential backoff, and failing at
 * once, with the path and a hint, on everything else.
 */
final class TransientIo {

    /** One step of filesystem work. */
    @FunctionalInterface
    interface Step<T> {
        T run() throws IOException;
    }

    static final int ATTEMPTS = 6;
    static final Backoff BACKOFF = Backoff.of(Duration.ofMillis(5), Duration.ofMillis(250));

    private static final boolean WINDOWS = File.separatorChar == '\\';
    private static final List<String> TRANSIENT_MARKERS = List.of(
            "stale file handle",
            "estale",
            "resource busy",
            "ebusy",
            "text file busy",
            "etxtbsy",
            "being used by another process",
            "sharing violation",
            "lock violation");

    private TransientIo() {}

    /** Runs {@code step}, retrying transient failures; any other failure is a {@link CacheIOException}. */
    static <T> T retry(String operation, Path path, Step<T> step) {
        return retry(operation, path, step, WINDOWS);
    }

    static <T> T retry(String operation, Path path, Step<T> step, boolean windows) {
        for (int attempt = 0; ; attempt++) {
            try {
                return step.run();
            } catch (IOException e) {
                if (!isTransient(e, windows)) {
                    throw new CacheIOException(operation, path, hint(e, path), e);
                }
                if (attempt + 1 >= ATTEMPTS) {
                    throw new CacheIOException(
                            operation,
                            path,
                            "the filesystem reported a transient error " + ATTEMPTS
                                    + " times in a row; another program may hold the file open, retry later",
                            e);
                }
                pause(attempt, operation, path);
            }
        }
    }

    /** Runs a step that returns nothing. */
    static void run(String operation, Path path, Step<?> step) {
        retry(operation, path, step);
    }

    /** Whether {@code e} is a failure that goes away by itself on this platform. */
    static boolean isTransient(IOException e) {
        return isTransient(e, WINDOWS);
    }

    static boolean isTransient(IOException e, boolean windows) {
        if (e instanceof AccessDeniedException) {
            return windows; // Windows reports a sharing violation as access denied; POSIX means it
        }
        String text = text(e);
        return TRANSIENT_MARKERS.stream().anyMatch(text::contains);
    }

    static String hint(IOException e, Path path) {
        String text = text(e);
        if (e instanceof AccessDeniedException || text.contains("permission denied")) {
            return "check the owner and permissions of " + path
                    + ", or choose another cache root (LOCKCACHE_HOME or DatasetCache.builder().root(...))";
        }
        if (text.contains("read-only file system")) {
            return "the filesystem is mounted read-only; choose a writable cache root (LOCKCACHE_HOME)";
        }
        if (text.contains("no space left") || text.contains("disk quota")) {
            return "the filesystem is full or over quota; free space or choose another cache root (LOCKCACHE_HOME)";
        }
        return "";
    }

    private static String text(IOException e) {
        String reason = e instanceof FileSystemException fse && fse.getReason() != null ? fse.getReason() : "";
        String message = e.getMessage() == null ? "" : e.getMessage();
        return (reason + " " + message).toLowerCase(Locale.ROOT);
    }

    static void pause(int attempt, String operation, Path path) {
        try {
            TimeUnit.NANOSECONDS.sleep(BACKOFF.delayNanos(attempt, ThreadLocalRandom.current()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CacheIOException(
                    operation, path, "interrupted while retrying", new InterruptedIOException(e.getMessage()));
        }
    }
}
