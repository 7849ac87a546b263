// Node IPAM on a real etcd: ranges handed to registering Nodes never collide with ranges Nodes
// registered with or were given in an earlier term, a full cluster says so on the Node, a
// deleted Node's range goes to the next Node waiting, and an overlapping registration is
// reported.
import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '../../../proto/gen/skiff/v1/core.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { until } from '../../../test/helpers/wait.js';
import { SharedInformers } from '../../informers.js';
import { StoreControllerClient } from '../client.js';
import { ClientEventRecorder } from '../events.js';
import { CIDR_NOT_AVAILABLE, CIDR_OVERLAP, NodeIpamController } from './controller.js';

let ts: TestStore;
let informers: SharedInformers;
const running: NodeIpamController[] = [];

afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
  await informers?.stop();
  await ts?.close();
});

const node = (name: string, podCIDR = ''): Node =>
  Node.fromPartial({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR, podCIDRs: podCIDR ? [podCIDR] : [] } });

describe('NodeIpamController', () => {
  it('allocates, refuses when full, reuses a deleted node\'s range and survives a new term', async () => {
    ts = testStore();
    informers = new SharedInformers(ts.store);
    const client = new StoreControllerClient(ts.store);
    const recorder = new ClientEventRecorder(client, { component: 'node-ipam-controller' });
    const start = async (): Promise<NodeIpamController> => {
      // 10.250.0.0/28 in /30s: four node ranges.
      const c = new NodeIpamController({ store: ts.store, informers, client, recorder, clusterCIDR: '10.250.0.0/28', nodeCIDRMaskSize: 30 });
      running.push(c);
      await c.start();
      return c;
    };
    const cidrOf = async (name: string): Promise<string> => (await ts.store.get('Node', '', name)).spec?.podCIDR ?? '';
    const cidrsOf = async (name: string): Promise<string[]> => (await ts.store.get('Node', '', name)).spec?.podCIDRs ?? [];
    const events = async (): Promise<string[]> => {
      await recorder.flush();
      return (await ts.store.list('Event')).items.map((e) => `${e.type} ${e.reason} ${e.involvedObject?.name ?? ''}`).sort();
    };

    // One node registered with its own range before the controller ever ran; one has none.
    await ts.store.create('Node', node('a', '10.250.0.0/30'));
    await ts.store.create('Node', node('b'));
    const first = await start();
    await until(async () => (await cidrOf('b')) !== '', 10_000, 'b gets a range');
    expect(await cidrOf('b')).toBe('10.250.0.4/30');
    expect(await cidrsOf('b')).toEqual(['10.250.0.4/30']);
    expect(await cidrOf('a')).toBe('10.250.0.0/30');

    await ts.store.create('Node', node('c'));
    await ts.store.create('Node', node('d'));
    await until(async () => (await cidrOf('c')) !== '' && (await cidrOf('d')) !== '', 10_000, 'c and d get ranges');
    expect([await cidrOf('c'), await cidrOf('d')].sort()).toEqual(['10.250.0.12/30', '10.250.0.8/30']);
    expect(first.usage()).toEqual({ used: 4, capacity: 4 });

    // Full: e waits, and its events say why.
    await ts.store.create('Node', node('e'));
    await until(async () => (await events()).includes(`Warning ${CIDR_NOT_AVAILABLE} e`), 10_000, 'CIDRNotAvailable on e');
    expect(await cidrOf('e')).toBe('');
    const ev = (await ts.store.list('Event')).items.find((x) => x.reason === CIDR_NOT_AVAILABLE)!;
    expect(ev.message).toMatch(/no free \/30 range left in the cluster CIDR 10\.250\.0\.0\/28/);

    // b leaves: its range goes to e.
    await ts.store.delete('Node', '', 'b');
    await until(async () => (await cidrOf('e')) !== '', 10_000, 'e gets the freed range');
    expect(await cidrOf('e')).toBe('10.250.0.4/30');

    // A new term (another leader) rebuilds from the Nodes: still full, nothing handed out twice.
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const second = await start();
    expect(second.usage()).toEqual({ used: 4, capacity: 4 });
    await ts.store.create('Node', node('f'));
    await until(async () => (await events()).includes(`Warning ${CIDR_NOT_AVAILABLE} f`), 10_000, 'CIDRNotAvailable on f');
    const all = (await ts.store.list('Node')).items.map((n) => n.spec?.podCIDR).filter(Boolean);
    expect(new Set(all).size).toBe(all.length);

    // A node that registers with a range another node holds is reported, and keeps its own.
    await ts.store.create('Node', node('g', '10.250.0.8/30'));
    await until(async () => (await events()).includes(`Warning ${CIDR_OVERLAP} g`), 10_000, 'overlap reported on g');
    const overlap = (await ts.store.list('Event')).items.find((x) => x.reason === CIDR_OVERLAP)!;
    expect(overlap.message).toMatch(/pod CIDR 10\.250\.0\.8\/30 overlaps the range of node [cd]/);
    expect(await cidrOf('g')).toBe('10.250.0.8/30');

    // g leaving does not free the range its first holder still uses.
    await ts.store.delete('Node', '', 'g');
    await ts.store.delete('Node', '', 'a');
    await until(async () => (await cidrOf('f')) !== '', 10_000, 'f gets a\'s range');
    expect(await cidrOf('f')).toBe('10.250.0.0/30');
    expect(second.usage()).toEqual({ used: 4, capacity: 4 });
  });
});
