package dev.lockcache.cli;

/**
 * The exit statuses of {@code lockcache}, stable for scripts. {@code lockcache run} exits with the command's
 * own status once it ran; the codes below are what it uses when the command could not run. The numbers follow
 * BSD {@code sysexits.h} where one fits, and the shell's 126/127 for a command that cannot be started.
 */
public final class ExitCode {

    /** Success. */
    public static final int OK = 0;

    /** The operation was tried and failed: a download, a digest check, an I/O error, a lock file in the way. */
    public static final int FAILURE = 1;

    /** Bad usage: unknown option or provider, malformed duration or size, missing argument ({@code EX_USAGE}). */
    public static final int USAGE = 64;

    /** The lock was not obtained: held by someone else past {@code --timeout}, or at once with {@code --nonblock}. */
    public static final int LOCK_NOT_OBTAINED = 75;

    /** {@code run}: the command was found but could not be executed (permission, not an executable). */
    public static final int COMMAND_NOT_EXECUTABLE = 126;

    /** {@code run}: the command was not found. */
    public static final int COMMAND_NOT_FOUND = 127;

    private ExitCode() {}
}
