// skiff up [--state-dir DIR] [--nodes N] [--no-example]: a local cluster on this machine.
import { InvalidArgumentError, type Command } from 'commander';
import { errorLine } from '../up/errors.js';
import { line } from '../context.js';
import { processHost, type CommandHost } from '../up/host.js';
import { defaultStateDir } from '../up/layout.js';
import { PlainReporter, type Reporter } from '../up/report.js';
import { InkReporter } from '../up/StepsView.js';
import { up } from '../up/up.js';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

export function reporterFor(host: CommandHost): Reporter {
  return host.interactive ? new InkReporter() : new PlainReporter(host.stdout);
}

export function registerUp(program: Command, host: CommandHost = processHost()): void {
  program
    .command('up')
    .description('start a local cluster on this machine (etcd, registry, containerd, control plane, node agent) and the example service')
    .option('--state-dir <dir>', 'where the cluster keeps its data, logs and pids (default ~/.skiff/cluster)')
    .option('--nodes <n>', 'number of nodes; above 1 each node gets a network namespace on a host bridge with its own containerd and node agent', positive, 1)
    .option('--no-example', 'do not apply deploy/examples/hello.yaml')
    .action(async (opts: { stateDir?: string; nodes: number; example: boolean }) => {
      try {
        host.setExitCode(await up({
          stateDir: opts.stateDir ?? defaultStateDir(host.env),
          nodes: opts.nodes,
          example: opts.example,
          env: host.env,
          stdout: host.stdout,
          stderr: host.stderr,
          interactive: host.interactive,
        }, reporterFor(host)));
      } catch (e) {
        line(host.stderr, errorLine(e));
        host.setExitCode(1);
      }
    });
}
