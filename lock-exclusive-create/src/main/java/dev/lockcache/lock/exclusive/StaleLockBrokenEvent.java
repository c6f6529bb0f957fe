package dev.lockcache.lock.exclusive;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JDK Flight Recorder event: a stale exclusive-create lock was broken, with the previous owner and the proof. */
@Name("dev.lockcache.StaleLockBroken")
@Label("Stale Lock Broken")
@Category("lockcache")
@Description("An exclusive-create lock was broken after its holder was proven dead or silent")
@StackTrace(false)
final class StaleLockBrokenEvent extends Event {
    @Label("Path")
    String path;

    @Label("Previous Owner")
    String previousOwner;

    @Label("Proof")
    String proof;

    static void commit(java.nio.file.Path path, String previousOwner, String proof) {
        StaleLockBrokenEvent event = new StaleLockBrokenEvent();
        if (event.shouldCommit()) {
            event.path = path.toString();
            event.previousOwner = previousOwner;
            event.proof = proof;
            event.commit();
        }
    }
}
