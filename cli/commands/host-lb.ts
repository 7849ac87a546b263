// skiff host-lb --state-dir DIR: the host side of LoadBalancer Services on a `skiff up --nodes N`
// cluster (cli/up/hostlb). Started in the background by `skiff up`, stopped by `skiff down`;
// hidden from the help, users never run it themselves.
import type { Command } from 'commander';
import { line } from '../context.js';
import { errorLine } from '../up/errors.js';
import { runForwarder } from '../up/hostlb/forwarder.js';
import { processHost, type CommandHost } from '../up/host.js';
import { loadLan } from '../up/lan.js';
import { layout } from '../up/layout.js';
import { loadPorts } from '../up/ports.js';
import { upClientTls } from '../up/pki.js';

export function registerHostLb(program: Command, host: CommandHost = processHost()): void {
  program
    .command('host-lb', { hidden: true })
    .description('forward the host\'s 127.0.0.1 LoadBalancer ports to the nodes of a `skiff up --nodes N` cluster')
    .requiredOption('--state-dir <dir>', 'the cluster\'s state dir')
    .action(async (opts: { stateDir: string }) => {
      const l = layout(opts.stateDir);
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        const lan = await loadLan(l.lanFile);
        if (!lan) throw new Error(`${l.lanFile}: no multi-node LAN in this state dir`);
        const ports = await loadPorts(l.portsFile);
        if (!ports) throw new Error(`${l.portsFile}: no ports chosen in this state dir`);
        // Where `skiff up` puts the control plane of a multi-node cluster (the bridge's address).
        await runForwarder({
          lan, server: `${lan.hostAddress}:${ports.api}`, tokenFile: l.tokenFile, tls: await upClientTls(l), signal: ac.signal,
          log: (s) => line(host.stdout, `${new Date().toISOString()} ${s}`),
        });
      } catch (e) {
        line(host.stderr, errorLine(e));
        host.setExitCode(1);
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
    });
}
