package dev.lockcache.lock.testkit;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Makes a file or directory unwritable for tests of permission faults, also for root (whom permission bits do
 * not stop): {@code chattr +i} where the filesystem has it, else the owner's write bit for a non-root user. Tests
 * skip (with a message) when neither is possible.
 */
public final class Immutable {

    private Immutable() {}

    /** Makes {@code path} unwritable; false when this machine cannot. */
    public static boolean set(Path path) {
        return change(path, true);
    }

    /** Undoes {@link #set}; call it in a {@code finally}. */
    public static boolean clear(Path path) {
        return change(path, false);
    }

    private static boolean change(Path path, boolean on) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return path.toFile().setWritable(!on, false);
        }
        try {
            Process chattr = new ProcessBuilder("chattr", on ? "+i" : "-i", path.toString())
                    .redirectErrorStream(true)
                    .start();
            chattr.getInputStream().readAllBytes();
            return chattr.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
