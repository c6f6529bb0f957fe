package dev.lockcache.cli;

import ch.qos.logback.classic.Level;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The CLI's logging level: warnings by default, everything from DEBUG up with {@code --verbose}. */
final class Logging {

    private Logging() {}

    /** Turns the root logger to DEBUG when logback is the binding (it is in the runnable jar). */
    static void enableDebug() {
        Logger root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        if (root instanceof ch.qos.logback.classic.Logger logback) {
            logback.setLevel(Level.DEBUG);
        } else {
            root.warn("--verbose: the logging binding is not logback; its own configuration decides the level");
        }
    }
}
