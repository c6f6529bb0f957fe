package dev.lockcache.lock;

import java.nio.file.Path;

/**
 * A thread holding a shared lock asked for the exclusive mode on the same path. Upgrades are refused at
 * once because two shared holders upgrading would wait for each other forever: release the shared lock
 * first, then acquire exclusively.
 */
public final class LockUpgradeException extends LockException {
    private static final long serialVersionUID = 1L;

    public LockUpgradeException(Path path) {
        super(
                "cannot upgrade a shared lock to exclusive on " + path
                        + ": this thread holds it shared; release the shared lock first, then acquire it exclusively",
                path,
                null);
    }
}
