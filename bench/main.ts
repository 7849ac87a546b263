#!/usr/bin/env node
// skiff benchmarks: node dist/bench/main.js <density|rollout|failover|real-node|service-rollout|multinode|real-rollout|vs-swarm-skiff> [--nodes N]
// [--pods P] [--size smoke|small|large] [--rate R --duration S] [--svg FILE] [--json FILE]. Prints one JSON object on
// stdout (and to --json), a short summary on stderr, and with --svg a chart of pods running.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { density } from './density.js';
import { failover } from './failover.js';
import { multinode } from './multinode.js';
import { realNode } from './real-node.js';
import { realRollout } from './real-rollout.js';
import { rollout } from './rollout.js';
import { serviceRollout } from './service-rollout.js';
import { skiffOnly, vsSwarm } from './vs-swarm.js';
import type { ScenarioOptions, ScenarioResult, Size } from './scenario.js';
import { writeSvg } from './svg.js';

const SCENARIOS: Record<string, (o: ScenarioOptions) => Promise<ScenarioResult>> = {
  density, rollout, failover, 'real-node': realNode, 'service-rollout': serviceRollout, multinode,
  'real-rollout': realRollout, 'vs-swarm-skiff': skiffOnly,
};

/** Nodes and pods per scenario and size; --nodes/--pods override. */
const SIZES: Record<string, Record<Size, { nodes: number; pods: number }>> = {
  density: { smoke: { nodes: 20, pods: 200 }, small: { nodes: 100, pods: 3000 }, large: { nodes: 1000, pods: 30000 } },
  rollout: { smoke: { nodes: 10, pods: 100 }, small: { nodes: 50, pods: 500 }, large: { nodes: 100, pods: 1000 } },
  failover: { smoke: { nodes: 10, pods: 100 }, small: { nodes: 50, pods: 500 }, large: { nodes: 100, pods: 2000 } },
  'real-node': { smoke: { nodes: 1, pods: 10 }, small: { nodes: 1, pods: 50 }, large: { nodes: 1, pods: 50 } },
  'service-rollout': { smoke: { nodes: 1, pods: 3 }, small: { nodes: 1, pods: 6 }, large: { nodes: 1, pods: 20 } },
  multinode: { smoke: { nodes: 3, pods: 6 }, small: { nodes: 3, pods: 6 }, large: { nodes: 3, pods: 12 } },
  'real-rollout': { smoke: { nodes: 1, pods: 8 }, small: { nodes: 1, pods: 50 }, large: { nodes: 1, pods: 100 } },
  'vs-swarm-skiff': { smoke: { nodes: 1, pods: 8 }, small: { nodes: 1, pods: 50 }, large: { nodes: 1, pods: 50 } },
};

/** density's latency phase per size: pods/s for seconds (ClusterLoader2's latency pods). */
const LATENCY: Record<Size, { rate: number; duration: number }> = {
  smoke: { rate: 20, duration: 2 }, small: { rate: 100, duration: 30 }, large: { rate: 300, duration: 60 },
};

const count = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} wants a positive whole number, got "${v}"`);
  return n;
};

async function main(): Promise<void> {
  const cmd = new Command('skiff-bench')
    .argument('<scenario>', `one of ${Object.keys(SCENARIOS).join(', ')}`)
    .addOption(new Option('--size <size>', 'preset of nodes and pods').choices(['smoke', 'small', 'large']).default('smoke'))
    .option('--nodes <n>', 'simulated nodes', count('--nodes'))
    .option('--pods <n>', 'pods (replicas for rollout)', count('--pods'))
    .option('--start-ms <n>', 'fake runtime start latency per sandbox and container (ms)', count('--start-ms'), 50)
    .option('--timeout-seconds <n>', 'give up after this long', count('--timeout-seconds'), 600)
    .option('--ceiling-seconds <n>', 'length of each etcd ceiling run', count('--ceiling-seconds'), 5)
    .option('--rate <n>', 'density: pods created per second in the latency phase (default by --size)', count('--rate'))
    .option('--duration <seconds>', 'density: length of the latency phase (default by --size; 0: none)', (v: string) => (v === '0' ? 0 : count('--duration')(v)))
    .option('--max-parallel-starts <n>', 'real-node: the agent\'s bound on start calls in flight (default: the agent\'s; 0: none)', (v: string) => (v === '0' ? 0 : count('--max-parallel-starts')(v)))
    .option('--rounds <n>', 'real-rollout: rolling updates one after another (default 3)', count('--rounds'))
    .option('--cpu-prof-dir <dir>', 'run the control plane with node --cpu-prof into this folder')
    .option('--heap-snapshot-dir <dir>', 'density: write a heap snapshot of the control plane here once every pod runs')
    .option('--vs-swarm', 'real-node: also run the same workload on Docker Swarm and on Skiff through their CLIs, side by side', false)
    .option('--svg <file>', 'write a chart of pods running over time')
    .option('--json <file>', 'also write the JSON result here')
    .exitOverride()
    .showHelpAfterError();
  cmd.parse(process.argv.slice(2), { from: 'user' });
  const scenario = cmd.args[0] ?? '';
  const run = SCENARIOS[scenario];
  if (!run) cmd.error(`unknown scenario "${scenario}": pick one of ${Object.keys(SCENARIOS).join(', ')}`);
  const o = cmd.opts<{ size: Size; nodes?: number; pods?: number; startMs: number; timeoutSeconds: number; ceilingSeconds: number; cpuProfDir?: string; heapSnapshotDir?: string; rate?: number; duration?: number; maxParallelStarts?: number; rounds?: number; vsSwarm: boolean; svg?: string; json?: string }>();
  const preset = SIZES[scenario]?.[o.size] ?? { nodes: 1, pods: 1 };
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  if (o.heapSnapshotDir) mkdirSync(o.heapSnapshotDir, { recursive: true });
  const opts: ScenarioOptions = {
    size: o.size, nodes: o.nodes ?? preset.nodes, pods: o.pods ?? preset.pods, startMs: o.startMs,
    timeoutMs: o.timeoutSeconds * 1000, ceilingSeconds: o.ceilingSeconds, cpuProfDir: o.cpuProfDir, heapSnapshotDir: o.heapSnapshotDir,
    rate: o.rate ?? LATENCY[o.size].rate, durationSeconds: o.duration ?? LATENCY[o.size].duration, maxParallelStarts: o.maxParallelStarts, rounds: o.rounds,
  };
  if (o.vsSwarm && scenario !== 'real-node') cmd.error('--vs-swarm goes with the real-node scenario');
  const r = await (run as (o: ScenarioOptions) => Promise<ScenarioResult>)(opts);
  if (o.vsSwarm) {
    const vs = await vsSwarm({ ...opts, pods: o.pods ?? 50 });
    r.json.vsSwarm = vs.json;
    r.summary += `\n${vs.summary}`;
  }
  const text = JSON.stringify(r.json);
  process.stdout.write(`${text}\n`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(r.json, null, 2)}\n`);
  if (o.svg && r.series.length) await writeSvg(o.svg, `skiff ${scenario} (${opts.nodes} nodes, ${opts.pods} pods)`, r.series);
  process.stderr.write(`${r.summary}\n`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    if (e instanceof Error && 'exitCode' in e && e.constructor.name === 'CommanderError') {
      process.exit(Number(e.exitCode));
    }
    process.stderr.write(`skiff-bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
