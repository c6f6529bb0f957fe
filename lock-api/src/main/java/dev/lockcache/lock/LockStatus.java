package dev.lockcache.lock;

import java.nio.file.Path;

/**
 * A look at one lock without holding it.
 *
 * @param path the lock file's real path
 * @param owner the owner record as found (for mechanisms whose lock file outlives the lock, the last holder's)
 * @param held whether someone held the lock at the moment of the look (a try-lock failed)
 */
public record LockStatus(Path path, LockOwner owner, boolean held) {}
