// `skiff down`: stops what `skiff up` started, in reverse order. containerd first loses every
// pod sandbox and container through its CRI (CNI tears their network down), then it and its
// shims stop and its mounts go. Data stays unless --purge, which also removes the state dir,
// the skiff0 bridge and CNI's idle shared iptables chains (with --nodes N: every node's
// agent and containerd, then the node namespaces, their veths and the LAN bridge).
import { readdir, rm } from 'node:fs/promises';
import { containerdHealthy, deleteBridge, killShims, removeAllPods, removeIdleHostportChains, unmountUnder } from './containerd.js';
import { layout, nodeLayout } from './layout.js';
import { lanNodes, loadLan, removeLan } from './lan.js';
import { removeHostLb } from './hostlb/forwarder.js';
import { removePidFile, runningPid, stopOrder, stopPid } from './processes.js';
import type { Reporter } from './report.js';
import type { Output } from '../context.js';
import { line } from '../context.js';

export interface DownOptions {
  stateDir: string;
  purge: boolean;
  stderr: Output;
  stdout: Output;
}

export async function down(opts: DownOptions, rep: Reporter): Promise<number> {
  const l = layout(opts.stateDir);
  const exists = await readdir(l.stateDir).then(() => true, () => false);
  if (!exists) {
    line(opts.stdout, `no local cluster in ${l.stateDir}: nothing to stop`);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    line(opts.stderr, `skiff down needs root (containerd, network namespaces, mounts): run: sudo ${process.argv[0] ?? 'node'} ${process.argv[1] ?? 'skiff'} down`);
    return 1;
  }
  // A failed step does not stop the rest: everything that can be stopped is.
  let failed = false;
  const step = (title: string, fn: () => Promise<string>): Promise<void> => rep.step(title, fn).catch(() => {
    failed = true;
  });
  // A multi-node cluster: its LAN names the nodes, each with a containerd of its own.
  const lan = await loadLan(l.lanFile);
  const nodes = lan ? lanNodes(lan).map((n) => n.name) : [];
  const containerds = new Map<string, { socket: string; dir: string }>(nodes.length
    ? nodes.map((n) => [`containerd-${n}`, { socket: nodeLayout(l, n).containerdSocket, dir: nodeLayout(l, n).containerdDir }])
    : [['containerd', { socket: l.containerdSocket, dir: l.containerdDir }]]);
  for (const name of stopOrder(nodes)) {
    await step(`stop ${name}`, async () => {
      const pid = await runningPid(l, name);
      let pods = '';
      let leftovers: string[] = [];
      const ctrd = containerds.get(name);
      if (ctrd && pid !== undefined && (await containerdHealthy(ctrd.socket))) {
        const r = await removeAllPods(ctrd.socket).catch((e: Error) => ({ containers: 0, sandboxes: 0, errors: [e.message] }));
        leftovers = r.errors;
        pods = `, removed ${r.sandboxes} pod sandbox(es) and ${r.containers} container(s)`;
      }
      const how = pid === undefined ? 'not running' : `${await stopPid(pid)} (pid ${pid})`;
      if (ctrd) {
        const shims = await killShims(ctrd.socket);
        await unmountUnder(ctrd.dir);
        if (shims) pods += `, ended ${shims} leftover shim(s)`;
      }
      await removePidFile(l, name);
      // It removes its table when stopped; one left by a process that died goes here.
      if (name === 'host-lb' && lan && (await removeHostLb(lan))) pods += ', removed its leftover nft table';
      if (leftovers.length) throw new Error(`${how}${pods}; could not remove through the CRI: ${leftovers.join('; ')}`);
      return `${how}${pods}`;
    });
  }
  if (opts.purge && !failed) {
    await step('purge', async () => {
      await unmountUnder(l.stateDir);
      if (lan) {
        // The nodes' nft tables, routes, pod bridges and CNI chains live in their namespaces and go with them.
        const gone = await removeLan(lan);
        await rm(l.stateDir, { recursive: true, force: true });
        return `removed ${l.stateDir}${gone.length ? `, ${gone.join(' ')} (with their veths and the host's pod routes)` : ''}`;
      }
      await rm(l.stateDir, { recursive: true, force: true });
      const bridge = await deleteBridge();
      const chains = await removeIdleHostportChains();
      return `removed ${l.stateDir}${bridge ? ', bridge skiff0' : ''}${chains.length ? `, iptables chains ${chains.join(' ')}` : ''}`;
    });
  }
  if (failed) {
    await rep.finish();
    line(opts.stderr, `skiff down did not finish cleanly (see above)${opts.purge ? '; the state dir was kept' : ''}`);
    return 1;
  }
  await rep.finish();
  line(opts.stdout, opts.purge ? 'the local cluster is gone' : `the local cluster is stopped; its data stays in ${l.stateDir} (\`skiff up${lan && lan.nodes > 1 ? ` --nodes ${lan.nodes}` : ''}\` starts it again, --purge removes it)`);
  return 0;
}
