// The node steps of `skiff up --nodes N`: the LAN (bridge, one network namespace per node),
// then per node its own containerd and its own skiff-node-agent, both started inside the node's
// namespace with nsenter. They are the same programs and flags as on real machines: the agent
// has no --pod-cidr and takes the range the control plane gives its Node (containerd renders
// its CNI config from the template when the agent sends it), --cluster-cidr turns on the
// host-gw routes between nodes and the masquerade for traffic leaving the pod network.
import { unwrapAs } from '../../proto/api/kinds.js';
import { Api } from '../client.js';
import { containerdHealthy, writeNodeContainerdConfig } from './containerd.js';
import { ensure, isReady, nodeReady, said, withApi } from './ensure.js';
import { distEntry, nodeLayout, type Layout } from './layout.js';
import { join } from 'node:path';
import { bootstrapTokenFile } from './credentials.js';
import { SMALL_PROCESS_NODE_FLAGS } from '../../proto/api/node-flags.js';
import { ensureLan, forwardWarning, hostPodRoute, inNetns, lanNodes, type Lan } from './lan.js';
import type { Reporter } from './report.js';
import { hostLbTableExists } from './hostlb/forwarder.js';
import { hostLbTable } from './hostlb/rules.js';
import type { ClientTls } from '../../proto/api/tls-client.js';
import { ensureAgentServing, pkiFiles } from './pki.js';

export interface MultiNodeContext {
  l: Layout;
  lan: Lan;
  rep: Reporter;
  token: () => string;
  tls: () => ClientTls;
  server: () => string;
  registry: () => string;
  agentPort: () => number;
}

export function multiNodeSteps(c: MultiNodeContext): { network(): Promise<void>; containerds(): Promise<void>; agents(): Promise<void>; hostLb(): Promise<void> } {
  const { l, lan, rep } = c;
  const nodes = lanNodes(lan);
  return {
    network: () => rep.step(`cluster LAN (${lan.nodes} node namespaces)`, async () => {
      const made = await ensureLan(lan);
      const where = `bridge ${lan.bridge} ${lan.hostAddress}/24, ${nodes.map((n) => `${n.netns} ${n.address}`).join(', ')}`;
      const warning = await forwardWarning();
      return `${made.length ? `made ${made.length}` : 'already set up'} (${where})${warning ? `; WARNING: ${warning}` : ''}`;
    }),

    async containerds() {
      for (const n of nodes) {
        const nl = nodeLayout(l, n.name);
        await rep.step(`containerd ${n.name} (CRI + CNI, in ${n.netns})`, async () => {
          const s = await ensure(l, `containerd-${n.name}`, () => containerdHealthy(nl.containerdSocket), async () => {
            const cfg = await writeNodeContainerdConfig(nl.containerdDir, nl.containerdSocket, c.registry());
            const [cmd = 'nsenter', ...args] = inNetns(n.netns, ['containerd', '--config', cfg]);
            return [cmd, args];
          }, 60_000);
          return said(s, nl.containerdSocket);
        });
      }
    },

    agents: () => rep.step(`node agents (${nodes.map((n) => n.name).join(', ')})`, async () => {
      // All at once: each waits for its Node's pod CIDR and turns Ready on its own.
      const started = await Promise.all(nodes.map(async (n) => {
        const nl = nodeLayout(l, n.name);
        const serving = await ensureAgentServing(l, n.name, [n.address]);
        const s = await ensure(l, `node-agent-${n.name}`, () => withApi(c.server(), c.token(), c.tls(), (api) => nodeReady(api, n.name)), () => {
          const [cmd = 'nsenter', ...args] = inNetns(n.netns, [
            process.execPath, ...SMALL_PROCESS_NODE_FLAGS, distEntry('node-agent'), '--control-plane', c.server(), '--bootstrap-token-file', bootstrapTokenFile(l), '--cert-dir', join(nl.agentDir, 'pki'), '--ca-file', pkiFiles(l).caCert, '--node-name', n.name,
            '--tls-cert-file', serving.cert, '--tls-private-key-file', serving.key, '--client-ca-file', pkiFiles(l).caCert,
            '--runtime', 'cri', '--containerd-socket', nl.containerdSocket, '--cluster-cidr', lan.clusterCidr,
            // Its LAN address is the InternalIP the other nodes route pod traffic to.
            '--state-dir', nl.agentDir, '--listen', `${n.address}:${c.agentPort()}`,
            '--cleanup',
          ]);
          return Promise.resolve([cmd, args]);
        }, 120_000);
        return { n, s };
      }));
      const fresh = started.filter((x) => x.s.fresh).length;
      // The host reaches pods over the LAN too (curl http://<pod IP>:8080/).
      const api = new Api({ server: c.server(), token: c.token(), tls: c.tls(), timeoutMs: 5000 });
      try {
        for (const { podCIDR, address } of await nodeInfo(api, lan)) if (podCIDR) await hostPodRoute(lan, podCIDR, address);
      } finally {
        api.close();
      }
      return `${fresh ? `started ${fresh}` : 'already running'}, ${started.map(({ n, s }) => `${n.name} pid ${s.pid}`).join(', ')}; all Ready`;
    }),

    // The nodes' LoadBalancer ports on the host's 127.0.0.1, as k3d's load balancer gives them.
    hostLb: () => rep.step('host load balancer (127.0.0.1 LoadBalancer ports -> nodes)', async () => {
      const s = await ensure(l, 'host-lb', () => hostLbTableExists(lan), () => Promise.resolve([process.execPath, [
        distEntry('cli'), 'host-lb', '--state-dir', l.stateDir,
      ]]), 30_000);
      return said(s, `nft table ip ${hostLbTable(lan.prefix)}`);
    }),
  };
}

export interface NodeInfo {
  name: string;
  ready: boolean;
  podCIDR: string;
  address: string;
}

/** The cluster's nodes as the control plane has them, in LAN order. */
export async function nodeInfo(api: Api, lan: Lan): Promise<NodeInfo[]> {
  const byName = new Map((await api.list({ kind: 'Node' })).items.map((r) => {
    const node = unwrapAs('Node', r);
    return [node.metadata?.name ?? '', node] as const;
  }));
  return lanNodes(lan).map((n) => {
    const node = byName.get(n.name);
    return {
      name: n.name,
      ready: node ? isReady(node) : false,
      podCIDR: node?.spec?.podCIDR ?? '',
      address: node?.status?.addresses.find((a) => a.type === 'InternalIP')?.address ?? n.address,
    };
  });
}

/** One line per node: name, readiness, pod CIDR, LAN address, namespace. */
export async function nodeTable(api: Api, lan: Lan): Promise<string[]> {
  const ns = new Map(lanNodes(lan).map((n) => [n.name, n.netns]));
  return (await nodeInfo(api, lan)).map((n) =>
    `${n.name.padEnd(4)} ${(n.ready ? 'Ready' : 'NotReady').padEnd(9)} podCIDR ${(n.podCIDR || '(none yet)').padEnd(16)} LAN ${n.address.padEnd(15)} netns ${ns.get(n.name) ?? ''}`);
}
