import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isApiError } from '../../proto/api/errors.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { podFixture } from '../../test/helpers/objects.js';
import { StoreControllerClient } from './client.js';
import { ClientEventRecorder } from './events.js';

let ts: TestStore;
let client: StoreControllerClient;
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

beforeEach(() => {
  ts = testStore();
  client = new StoreControllerClient(ts.store, () => NOW);
});
afterEach(() => ts.close());

describe('StoreControllerClient', () => {
  it('create names from generateName, starts pods Pending and stamps kind', async () => {
    const p = podFixture('');
    p.metadata!.generateName = 'web-abc-';
    p.status = undefined;
    const created = await client.create('Pod', p);
    expect(created.metadata?.name).toMatch(/^web-abc-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(created.metadata?.uid).not.toBe('');
    expect(created.status?.phase).toBe('Pending');
    expect(created.kind).toBe('Pod');
  });

  it('update keeps status; updateStatus keeps everything else; both are CAS', async () => {
    const p = await client.create('Pod', podFixture('a'));
    const s = structuredClone(p);
    s.status!.phase = 'Running';
    s.metadata!.labels = { changed: 'yes' };
    const afterStatus = await client.updateStatus('Pod', s);
    expect(afterStatus.status?.phase).toBe('Running');
    expect(afterStatus.metadata?.labels).toEqual({});
    await expect(client.updateStatus('Pod', s)).rejects.toSatisfy((e) => isApiError(e, 'Conflict'));
    const u = structuredClone(afterStatus);
    u.metadata!.labels = { x: '1' };
    u.status!.phase = 'Failed';
    const afterUpdate = await client.update('Pod', u);
    expect(afterUpdate.metadata?.labels).toEqual({ x: '1' });
    expect(afterUpdate.status?.phase).toBe('Running');
  });

  it('patch retries and honours a uid precondition', async () => {
    const p = await client.create('Pod', podFixture('a'));
    const out = await client.patch('Pod', 'default', 'a', (cur) => {
      cur.metadata!.labels = { adopted: 'yes' };
      return cur;
    }, { uid: p.metadata!.uid });
    expect(out.metadata?.labels).toEqual({ adopted: 'yes' });
    await expect(client.patch('Pod', 'default', 'a', (c) => c, { uid: 'other' })).rejects.toSatisfy((e) =>
      isApiError(e, 'Conflict'),
    );
  });

  it('delete: unbound pods go at once, bound pods get a deletionTimestamp and grace period', async () => {
    await client.create('Pod', podFixture('free'));
    await client.delete('Pod', 'default', 'free');
    await expect(ts.store.get('Pod', 'default', 'free')).rejects.toSatisfy((e) => isApiError(e, 'NotFound'));

    await client.create('Pod', podFixture('bound', { nodeName: 'n1' }));
    await client.delete('Pod', 'default', 'bound');
    const b = await ts.store.get('Pod', 'default', 'bound');
    expect(b.metadata?.deletionTimestamp).toBe('2026-01-01T12:00:30Z');
    expect(b.metadata?.deletionGracePeriodSeconds).toBe(30);
    await client.delete('Pod', 'default', 'bound', { gracePeriodSeconds: 0 });
    await expect(ts.store.get('Pod', 'default', 'bound')).rejects.toSatisfy((e) => isApiError(e, 'NotFound'));
  });

  it('delete: preconditions and Foreground/Orphan finalizers', async () => {
    await client.create('Pod', podFixture('a'));
    await expect(client.delete('Pod', 'default', 'a', { preconditions: { uid: 'nope' } })).rejects.toSatisfy((e) =>
      isApiError(e, 'Conflict'),
    );
    await client.delete('Pod', 'default', 'a', { propagationPolicy: 'Foreground' });
    const a = await ts.store.get('Pod', 'default', 'a');
    expect(a.metadata?.finalizers).toEqual(['foregroundDeletion']);
    expect(a.metadata?.deletionTimestamp).toBe('2026-01-01T12:00:00Z');
  });
});

describe('ClientEventRecorder', () => {
  it('creates an Event and aggregates repeats into count and lastTimestamp', async () => {
    let now = NOW;
    const rec = new ClientEventRecorder(client, { component: 'replicaset-controller', now: () => now });
    const pod = await client.create('Pod', podFixture('a'));
    rec.record(pod, 'Normal', 'Pulled', 'pulled it');
    now += 5000;
    rec.record(pod, 'Normal', 'Pulled', 'pulled it');
    rec.record(pod, 'Warning', 'Failed', 'oops');
    await rec.flush();
    const { items } = await ts.store.list('Event');
    expect(items).toHaveLength(2);
    const pulled = items.find((e) => e.reason === 'Pulled')!;
    expect(pulled.metadata?.name).toMatch(/^a\.[0-9a-f]+$/);
    expect(pulled.count).toBe(2);
    expect(pulled.firstTimestamp).toBe('2026-01-01T12:00:00Z');
    expect(pulled.lastTimestamp).toBe('2026-01-01T12:00:05Z');
    expect(pulled.involvedObject).toMatchObject({ kind: 'Pod', name: 'a', namespace: 'default', uid: pod.metadata?.uid });
    expect(pulled.source?.component).toBe('replicaset-controller');
  });

  it('never throws into the caller when writing fails', async () => {
    await ts.close();
    const rec = new ClientEventRecorder(client, { component: 'x' });
    const pod = podFixture('gone');
    expect(() => rec.record(pod, 'Normal', 'R', 'm')).not.toThrow();
    await rec.flush();
    ts = testStore();
  });
});
