/**
 * The {@code lockcache} command: fetch a dataset into the cache, run a command under a lock (like util-linux
 * {@code flock(1)}), show which lock providers work on a directory, inspect a lock's owner, collect orphaned
 * lock files and temp debris, and a self-contained demo of many processes fetching one dataset at once.
 *
 * <p>{@link dev.lockcache.cli.Main} is the entry point; {@link dev.lockcache.cli.ExitCode} lists the exit
 * statuses scripts can rely on. Everything else here is package-private: one class per subcommand, the
 * picocli type converters for durations and sizes, and the small pieces they share (provider choice, JSON
 * output, logging level).
 */
package dev.lockcache.cli;
