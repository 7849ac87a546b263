// skiff down [--state-dir DIR] [--purge]: stops the local cluster `skiff up` started.
import type { Command } from 'commander';
import { errorLine } from '../up/errors.js';
import { line } from '../context.js';
import { down } from '../up/down.js';
import { processHost, type CommandHost } from '../up/host.js';
import { defaultStateDir } from '../up/layout.js';
import { reporterFor } from './up.js';

export function registerDown(program: Command, host: CommandHost = processHost()): void {
  program
    .command('down')
    .description('stop the local cluster started by `skiff up` (data kept unless --purge)')
    .option('--state-dir <dir>', 'the cluster\'s state dir (default ~/.skiff/cluster)')
    .option('--purge', 'also remove the state dir, the skiff0 bridge and idle CNI iptables chains (several nodes: their namespaces, veths and LAN bridge)', false)
    .action(async (opts: { stateDir?: string; purge: boolean }) => {
      try {
        host.setExitCode(await down({
          stateDir: opts.stateDir ?? defaultStateDir(host.env), purge: opts.purge, stdout: host.stdout, stderr: host.stderr,
        }, reporterFor(host)));
      } catch (e) {
        line(host.stderr, errorLine(e));
        host.setExitCode(1);
      }
    });
}
