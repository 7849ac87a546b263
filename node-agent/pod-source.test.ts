// The list/watch protocol of the pod source against a scripted Api server: Expired re-lists,
// a cleanly ended stream and a failed one (Unavailable: a failover) resume from the last revision.
// (The real server's Expired and stream endings cannot be produced on cue; agent.test.ts runs
// the agent against the real one.)
import { Server, ServerCredentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { errors, toGrpcStatus } from '../proto/api/errors.js';
import { wrap } from '../proto/api/kinds.js';
import { ApiService, type ListRequest, type ResourceList, type WatchEvent, type WatchRequest } from '../proto/gen/skiff/v1/api.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import { podFixture } from '../test/helpers/objects.js';
import { until } from '../test/helpers/wait.js';
import { AgentApi } from './api-client.js';
import { realClock } from '../proto/api/clock.js';
import { PodSource } from './pod-source.js';
import { TEST_CLIENT_TLS, TEST_SERVING } from '../test/helpers/tls.js';

type Step = (call: ServerWritableStream<WatchRequest, WatchEvent>) => void;

const podAt = (name: string, rv: string, nodeName = 'n1'): Pod => {
  const p = podFixture(name, { nodeName });
  p.metadata!.uid = `uid-${name}`;
  p.metadata!.resourceVersion = rv;
  return p;
};

describe('PodSource', () => {
  let server: Server | undefined;
  let source: PodSource | undefined;
  let api: AgentApi | undefined;
  afterEach(async () => {
    await source?.stop();
    api?.close();
    server?.forceShutdown();
  });

  it('re-lists on Expired, resumes after a clean end and after Unavailable (a failover) from the last revision seen', async () => {
    const calls: string[] = [];
    let listRv = 10;
    const watchSteps: Step[] = [
      (call) => call.emit('error', toGrpcStatus(errors.expired('too old'))),
      (call) => {
        call.write({ type: 'ADDED', object: wrap('Pod', podAt('b', '21')), resourceVersion: '21' });
        call.write({ type: 'MODIFIED', object: wrap('Pod', podAt('elsewhere', '22', 'n2')), resourceVersion: '22' });
        call.end();
      },
      (call) => {
        call.write({ type: 'BOOKMARK', resourceVersion: '30' });
        call.emit('error', { code: status.UNAVAILABLE, details: 'etcd is down' });
      },
      (call) => {
        call.write({ type: 'DELETED', object: wrap('Pod', podAt('a', '41')), resourceVersion: '41' });
      },
    ];
    server = new Server();
    server.addService(ApiService, {
      list: (call: { request: ListRequest }, cb: (e: null, r: ResourceList) => void) => {
        calls.push(`list ${call.request.fieldSelector}`);
        listRv += 10;
        cb(null, { items: [wrap('Pod', podAt('a', '5'))], resourceVersion: String(listRv) });
      },
      watch: (call: ServerWritableStream<WatchRequest, WatchEvent>) => {
        calls.push(`watch ${call.request.resourceVersion} ${call.request.fieldSelector}`);
        const step = watchSteps.shift();
        if (step) step(call);
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server!.bindAsync('127.0.0.1:0', ServerCredentials.createSsl(null, [{ private_key: Buffer.from(TEST_SERVING.key), cert_chain: Buffer.from(TEST_SERVING.cert) }]), (e, p) => (e ? reject(e) : resolve(p))),
    );
    api = new AgentApi({ tls: TEST_CLIENT_TLS, address: `127.0.0.1:${port}` });
    const seen: string[] = [];
    source = new PodSource(api, 'n1', realClock, pino({ level: 'silent' }), {
      onList: (pods) => seen.push(`list ${pods.map((p) => p.metadata!.name).join(',')}`),
      onUpsert: (p) => seen.push(`upsert ${p.metadata!.name}`),
      onDelete: (p) => seen.push(`delete ${p.metadata!.name}`),
    });
    source.start();
    await until(() => seen.includes('delete a'), 10_000, 'all steps');
    const sel = 'spec.nodeName=n1';
    expect(calls).toEqual([
      `list ${sel}`, `watch 20 ${sel}`, // Expired
      `list ${sel}`, `watch 30 ${sel}`, // ends cleanly after rv 22
      `watch 22 ${sel}`, // resumed, no list; bookmark 30 then Unavailable
      `watch 30 ${sel}`, // resumed from the bookmark on whichever control plane answers
    ]);
    expect(seen).toEqual(['list a', 'list a', 'upsert b', 'delete elsewhere', 'delete a']);
  });
});
