// Leader election against a real etcd: exactly one leader, a fast hand-over when the leader
// resigns or dies, and never two leaders at once (the old one stops before the new one starts).
import type { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { newEtcdClient } from '../../storage/etcd-client.js';
import { sharedEndpoints, uniquePrefix } from '../../../test/helpers/etcd-client.js';
import { TcpProxy } from '../../../test/helpers/tcp-proxy.js';
import { until } from '../../../test/helpers/wait.js';
import { currentLeader, LeaderElector } from './elector.js';

const TTL = 2;

interface Candidate {
  id: string;
  client: Etcd3;
  elector: LeaderElector;
}

/** Shared log of leadership transitions; `leaders` counts who runs "controllers" right now. */
class Timeline {
  readonly events: string[] = [];
  leaders = new Set<string>();
  maxConcurrent = 0;

  started(id: string): void {
    this.leaders.add(id);
    this.maxConcurrent = Math.max(this.maxConcurrent, this.leaders.size);
    this.events.push(`start ${id}`);
  }

  stopped(id: string): void {
    this.leaders.delete(id);
    this.events.push(`stop ${id}`);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function candidate(id: string, prefix: string, timeline: Timeline, endpoints = sharedEndpoints()): Candidate {
  const client = newEtcdClient(endpoints);
  const elector = new LeaderElector({
    client,
    name: 'controllers',
    identity: id,
    ttlSeconds: TTL,
    prefix,
    onStartedLeading: () => timeline.started(id),
    onStoppedLeading: () => timeline.stopped(id),
  });
  cleanups.push(async () => {
    await elector.stop();
    client.close();
  });
  return { id, client, elector };
}

describe('LeaderElector', () => {
  it('elects exactly one of two, records it, and hands over when the leader resigns', async () => {
    const prefix = uniquePrefix();
    const tl = new Timeline();
    const a = candidate('a', prefix, tl);
    const b = candidate('b', prefix, tl);
    a.elector.start();
    b.elector.start();
    await until(() => tl.leaders.size === 1, 10_000, 'a leader');
    // Both keep campaigning for a few renew periods; still only one.
    await new Promise((r) => setTimeout(r, TTL * 1000));
    expect(tl.leaders.size).toBe(1);
    const first = [...tl.leaders][0]!;
    const [leader, follower] = first === 'a' ? [a, b] : [b, a];
    expect(leader.elector.isLeader()).toBe(true);
    expect(follower.elector.isLeader()).toBe(false);
    expect((await currentLeader(a.client, 'controllers', prefix))?.holderIdentity).toBe(leader.id);
    expect(leader.elector.leader()).toBe(leader.id);
    await until(() => follower.elector.leader() === leader.id, 10_000, 'the follower to know the leader');

    await leader.elector.stop();
    await leader.elector.stop(); // idempotent
    await until(() => tl.leaders.has(follower.id), TTL * 1000, 'the follower to take over within the TTL');
    expect((await currentLeader(a.client, 'controllers', prefix))?.holderIdentity).toBe(follower.id);
    expect(follower.elector.leader()).toBe(follower.id);
    expect(tl.maxConcurrent).toBe(1);
    expect(tl.events).toEqual([`start ${leader.id}`, `stop ${leader.id}`, `start ${follower.id}`]);
  });

  it('a leader whose lease is revoked steps down at once and a new term starts', async () => {
    const prefix = uniquePrefix();
    const tl = new Timeline();
    const a = candidate('a', prefix, tl);
    a.elector.start();
    await until(() => a.elector.isLeader(), 10_000, 'a to lead');
    const b = candidate('b', prefix, tl);
    b.elector.start();
    const rec = await currentLeader(b.client, 'controllers', prefix);
    // Someone (an operator, etcdctl) revokes the leader's lease.
    await b.client.leaseClient.leaseRevoke({ ID: rec!.leaseId });
    // a steps down as soon as it learns of the revocation (its keepalive or key watch); b may
    // take the freed key a moment before that, which is the window any lease-based election
    // has when a lease is revoked from outside. Then exactly one leads.
    await until(() => tl.events.includes('stop a') && tl.events.length >= 3, TTL * 1000, 'a new leader');
    expect(tl.events[0]).toBe('start a');
    const starts = tl.events.filter((e) => e.startsWith('start ')).slice(1);
    const next = starts[starts.length - 1]!.slice('start '.length);
    await until(async () => (await currentLeader(b.client, 'controllers', prefix))?.holderIdentity === next, TTL * 1000, 'record');
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
  });

  it('a leader cut off from etcd stops before anyone else starts, and rejoins as a follower', async () => {
    const prefix = uniquePrefix();
    const tl = new Timeline();
    const url = new URL(sharedEndpoints()[0]!);
    const proxy = await new TcpProxy(url.hostname, Number(url.port)).start();
    cleanups.push(() => proxy.stop());
    const a = candidate('a', prefix, tl, [proxy.endpoint]);
    a.elector.start();
    await until(() => a.elector.isLeader(), 10_000, 'a to lead');
    const b = candidate('b', prefix, tl);
    b.elector.start();

    proxy.setRefusing(true);
    await until(() => tl.leaders.has('b'), 3 * TTL * 1000, 'b to lead after a is partitioned');
    expect(tl.events.slice(0, 3)).toEqual(['start a', 'stop a', 'start b']);
    expect(tl.maxConcurrent).toBe(1);

    proxy.setRefusing(false);
    // a reconnects and keeps campaigning, but b holds the key.
    await new Promise((r) => setTimeout(r, 2 * TTL * 1000));
    expect(a.elector.isLeader()).toBe(false);
    expect(b.elector.isLeader()).toBe(true);
    expect(tl.maxConcurrent).toBe(1);
  });

  it('keeps leading through dropped connections that heal at once', async () => {
    const prefix = uniquePrefix();
    const tl = new Timeline();
    const url = new URL(sharedEndpoints()[0]!);
    const proxy = await new TcpProxy(url.hostname, Number(url.port)).start();
    cleanups.push(() => proxy.stop());
    const a = candidate('a', prefix, tl, [proxy.endpoint]);
    a.elector.start();
    await until(() => a.elector.isLeader(), 10_000, 'a to lead');
    for (let i = 0; i < 4; i++) {
      proxy.cut();
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(tl.events).toEqual(['start a']);
    expect(a.elector.isLeader()).toBe(true);
  });

  it('rejects a TTL etcd would not honour', () => {
    const client = newEtcdClient(sharedEndpoints());
    cleanups.push(() => Promise.resolve(client.close()));
    expect(
      () =>
        new LeaderElector({
          client,
          name: 'x',
          identity: 'x',
          ttlSeconds: 1,
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
        }),
    ).toThrow(/TTL must be a whole number of seconds >= 2/);
  });
});
