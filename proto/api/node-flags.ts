// Node (V8) flags for Skiff's own processes where they are small: every node agent (one
// machine's pods, at most a few hundred) and the control plane that `skiff up` runs for a
// cluster of one or a few machines. V8's young generation defaults to two 16 MiB semi-spaces,
// which a process keeps resident once it has used them; at these allocation rates 1 MiB
// semi-spaces cost a few more scavenges and save about 30-40 MB of RSS per process (measured in
// bench/results/vs-swarm-2026-12-02-*.json; CPU per pod in the density bench). A control plane
// for a large cluster is started without them. They go before the script on the node command
// line: V8 sizes the heap when the process starts, so a process cannot set them on itself.
export const SMALL_PROCESS_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
