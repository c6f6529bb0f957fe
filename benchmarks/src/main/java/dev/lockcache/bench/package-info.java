/**
 * Benchmarks of lockcache's lock providers beside the mechanisms they wrap and the peers they replace.
 *
 * <p>Two kinds live here. {@link dev.lockcache.bench.UncontendedBenchmarks} is a JMH class measuring one
 * thread's acquire+release cycle on a lock file that is already open. The cross-process harness ({@link
 * dev.lockcache.bench.Harness} and the child side, {@link dev.lockcache.bench.HarnessChild}) starts child
 * JVMs that contend on one lock and talk through a small memory-mapped file ({@link
 * dev.lockcache.bench.SharedBoard}); it measures hand-off latency, owner changes under contention, the CPU a
 * blocked waiter burns, and descriptor or heap growth after many locks. {@link dev.lockcache.bench.BenchMain}
 * runs both in one go, puts every figure beside the baseline measured in the same run ({@link
 * dev.lockcache.bench.RatioTable}) and writes the results as JSON. Nothing here runs in CI; {@code bench/run}
 * runs it.
 */
package dev.lockcache.bench;
