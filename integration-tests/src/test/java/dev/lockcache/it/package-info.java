/**
 * Multi-process, fault and interop tests of lockcache's providers: real peers nobody here wrote (util-linux
 * {@code flock(1)}, Python's {@code fcntl}), lock files deleted under running counters, holders killed with
 * SIGKILL, and a FUSE filesystem whose lock operation lies. Tests that need a tool skip with a message naming it.
 */
package dev.lockcache.it;
