package dev.lockcache.bench;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Something that can lock a file: a lockcache provider or one of the baselines it is measured against. The
 * harness and the JMH benchmarks drive every contender through this one shape, so the figures differ only by
 * mechanism.
 */
interface Contender {

    /** The name used on the command line and in the results table. */
    String name();

    /**
     * Prepares to lock {@code lockFile} (opening it if the mechanism keeps it open). A session may be used by
     * several threads of one JVM only if {@link #threadSafe()} says so.
     */
    Session open(Path lockFile) throws IOException;

    /** Whether one session may be shared by several threads of this JVM. */
    boolean threadSafe();

    /** One lock file, ready to be locked repeatedly. */
    interface Session extends AutoCloseable {

        /** Blocks (or polls) until this thread holds the lock exclusively. */
        Held acquire() throws IOException, InterruptedException;

        @Override
        void close() throws IOException;
    }

    /** One acquisition; release exactly once, from the acquiring thread. */
    interface Held {
        void release() throws IOException;
    }
}
