// Node (V8) flags for Skiff's own processes where they are small: every node agent (one
// machine's pods, at most a few hundred) and the control plane that `skiff up` runs for a
// cluster of one or a few machines. V8's young generation defaults to two 16 MiB semi-spaces,
// which a process keeps resident once it has used them; 1 MiB semi-spaces saved 30-40 MB of RSS
// per process at 100 replicas (bench/results/vs-swarm-2026-12-02-perf.json and this branch's
// report). They cost more scavenges: the density bench's control plane at 3,000 pods spent
// 2.94 instead of 2.32 CPU ms per pod with them (density-small-2026-12-02-perf-semispace-*.json),
// so a control plane for a large cluster is started without them. They go before the script on
// the node command line: V8 sizes the heap when the process starts (v8.setFlagsFromString
// afterwards leaves the young generation as it was), so a process cannot set them on itself.
export const SMALL_PROCESS_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
