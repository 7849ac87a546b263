// The EndpointSlice controller on a real etcd with the garbage collector running: slices follow
// pods (ready, not ready, terminating, gone), named ports resolve, and deleting the Service
// removes its slices.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromManifest, type JsonObject } from '../../../proto/api/manifest.js';
import type { Pod, Service } from '../../../proto/gen/skiff/v1/core.js';
import type { EndpointSlice } from '../../../proto/gen/skiff/v1/discovery.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { until } from '../../../test/helpers/wait.js';
import { SharedInformers } from '../../informers.js';
import { StoreControllerClient } from '../client.js';
import { GarbageCollector } from '../gc/collector.js';
import { EndpointSliceController } from './controller.js';
import { SERVICE_NAME_LABEL } from './reconcile.js';

let ts: TestStore;
let informers: SharedInformers;
let esc: EndpointSliceController;
let gc: GarbageCollector;

const doc = <T>(d: JsonObject): T => fromManifest(d).object as T;

const serviceDoc = (): Service => doc({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
});

function podDoc(name: string, ip: string, ready: boolean): Pod {
  return doc({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'app:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
}

const slices = async (): Promise<EndpointSlice[]> => (await ts.store.list('EndpointSlice', { labelSelector: `${SERVICE_NAME_LABEL}=web` })).items;
const endpoints = async (): Promise<string[]> =>
  (await slices()).flatMap((s) => s.endpoints.map((e) => `${e.addresses[0]}:${s.ports[0]?.port ?? '-'} ready=${String(e.conditions?.ready)} serving=${String(e.conditions?.serving)} terminating=${String(e.conditions?.terminating)}`)).sort();

beforeEach(async () => {
  ts = testStore();
  informers = new SharedInformers(ts.store);
  const client = new StoreControllerClient(ts.store);
  esc = new EndpointSliceController({ informers, client });
  gc = new GarbageCollector({ store: ts.store, client, informers });
  await esc.start();
  await gc.start();
});

afterEach(async () => {
  await esc.stop();
  await gc.stop();
  await informers.stop();
  await ts.close();
});

describe('EndpointSliceController on etcd', () => {
  it('follows the pods, resolves named ports, and goes with its Service', async () => {
    const svc = await ts.store.create('Service', serviceDoc());
    // No pods yet: one placeholder slice without endpoints.
    await until(async () => (await slices()).length === 1, 10_000, 'placeholder slice');
    expect((await slices())[0]).toMatchObject({ endpoints: [], ports: [] });

    await ts.store.create('Pod', podDoc('a', '10.88.0.2', true));
    await ts.store.create('Pod', podDoc('b', '10.88.0.3', false));
    await until(async () => (await endpoints()).length === 2, 10_000, 'two endpoints');
    expect(await endpoints()).toEqual([
      '10.88.0.2:8080 ready=true serving=true terminating=false',
      '10.88.0.3:8080 ready=false serving=false terminating=false',
    ]);
    const all = await slices();
    expect(all).toHaveLength(1);
    expect(all[0]!.metadata?.name).toMatch(/^web-/);
    expect(all[0]!.metadata?.ownerReferences[0]).toMatchObject({ kind: 'Service', uid: svc.metadata?.uid, controller: true });

    // b turns ready; a starts terminating.
    await ts.store.guaranteedUpdate('Pod', 'default', 'b', (p) => {
      p.status!.conditions = [{ type: 'Ready', status: 'True', reason: '', message: '', lastTransitionTime: '', lastUpdateTime: '', lastProbeTime: '', lastHeartbeatTime: '' }];
      return p;
    });
    await ts.store.guaranteedUpdate('Pod', 'default', 'a', (p) => {
      p.metadata!.deletionTimestamp = '2030-01-01T00:00:00Z';
      p.metadata!.deletionGracePeriodSeconds = 30;
      return p;
    });
    await until(async () => (await endpoints()).join() === [
      '10.88.0.2:8080 ready=false serving=true terminating=true',
      '10.88.0.3:8080 ready=true serving=true terminating=false',
    ].join(), 10_000, 'conditions updated');
    const rv = (await slices())[0]!.metadata?.resourceVersion;

    await ts.store.delete('Pod', 'default', 'a');
    await until(async () => (await endpoints()).length === 1, 10_000, 'a removed');
    expect((await slices())[0]!.metadata?.resourceVersion).not.toBe(rv);

    await ts.store.delete('Service', 'default', 'web');
    await until(async () => (await slices()).length === 0, 10_000, 'slices collected');
  });
});
