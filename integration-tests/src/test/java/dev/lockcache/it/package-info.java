/**
 * Multi-process, fault and interop tests of lockcache's providers and cache: real peers nobody here wrote
 * (util-linux {@code flock(1)}, Python's {@code fcntl}), lock files deleted under running counters, holders killed
 * with SIGKILL or stopped with SIGSTOP, a FUSE filesystem whose lock operation lies, system calls failed or delayed
 * by {@code strace -e inject=}, a full tmpfs and a read-only bind mount in private mount namespaces, wall-clock
 * jumps by libfaketime, and a second account racing symlinks in a sticky directory. Child JVMs run {@link
 * dev.lockcache.it.FaultChild} (driven by {@link dev.lockcache.it.Scripted}) or the kit's {@code LockChild}. Tests
 * that need a tool or privilege skip with a message naming it.
 */
package dev.lockcache.it;
