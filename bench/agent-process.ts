// The real skiff-node-agent program as its own process (as deployed: proxy and DNS on) on a
// private containerd, so its memory and CPU are its own. Its nft table is private to the run
// and goes when it stops (--cleanup).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import { builtProgram } from './cluster.js';
import { SMALL_PROCESS_NODE_FLAGS } from '../proto/api/node-flags.js';
import { agentTlsArgs, testTlsFiles } from '../test/helpers/tls.js';

const AGENT_MAIN = builtProgram('node-agent/main.js');

export interface AgentProcess {
  proc: ChildProcess;
  pid: number;
  /** The end of its stderr, for error messages. */
  tail(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export async function spawnAgentProcess(o: {
  controlPlane: string; nodeName: string; containerd: { socket: string; subnet: string }; stateDir: string;
}): Promise<AgentProcess> {
  const tls = await testTlsFiles();
  // As deployed (`skiff up`): every agent is a small process.
  const proc = spawn(process.execPath, [
    ...SMALL_PROCESS_NODE_FLAGS, AGENT_MAIN, '--control-plane', o.controlPlane, ...agentTlsArgs(tls), '--node-name', o.nodeName, '--runtime', 'cri',
    '--containerd-socket', o.containerd.socket, '--pod-cidr', o.containerd.subnet, '--state-dir', join(o.stateDir, o.nodeName),
    '--listen', `127.0.0.1:${await freePort()}`, '--log-level', 'warn',
    '--proxy-table', `skiff-bench-${randomBytes(3).toString('hex')}`, '--cleanup',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  proc.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-2000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    pid: proc.pid ?? 0,
    tail: () => tail,
    exited: () => proc.exitCode !== null || proc.signalCode !== null,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
