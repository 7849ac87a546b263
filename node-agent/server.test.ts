import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromGrpcError } from '../proto/api/errors.js';
import { NodeAgentClient, NodeStats } from '../proto/gen/skiff/v1/agent.js';
import type { LogChunk, LogsRequest } from '../proto/gen/skiff/v1/api.js';
import { serveNodeAgent, type LogSource } from './server.js';
import { grpcCredentials } from '../proto/api/tls-client.js';
import { TEST_AGENT_SERVING, TEST_CA, TEST_KUBELET_CLIENT, TEST_KUBELET_TLS, testClientCertificate } from '../test/helpers/tls.js';
import { createCa, issueCertificate, KUBELET_CLIENT_USER } from '../proto/api/pki/index.js';
import { credentials, Metadata } from '@grpc/grpc-js';

const request = (follow: boolean): LogsRequest => ({
  namespace: 'default', pod: 'web', container: 'app', follow, tailLines: -1, previous: false, timestamps: false, sinceSeconds: 0,
} as LogsRequest);

describe('NodeAgent logs', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a follow beyond --max-log-follows with TooManyRequests, and takes one again once a follow ends', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-agent-logs-'));
    const path = join(dir, '0.log');
    await writeFile(path, '2026-01-01T00:00:00Z stdout F hello\n');
    const src = {
      status: () => Promise.reject(new Error('not used')),
      containersOf: () => ['app'],
      logFile: () => ({ path, running: () => true }),
      exec: () => Promise.resolve(undefined),
      execStream: () => Promise.resolve(undefined),
      forwardHost: () => undefined,
      stats: () => NodeStats.fromPartial({}),
    } satisfies LogSource;
    const { server, port } = await serveNodeAgent('127.0.0.1:0', src, { maxLogFollows: 1, tls: TEST_AGENT_SERVING });
    const client = new NodeAgentClient(`127.0.0.1:${port}`, grpcCredentials(`127.0.0.1:${port}`, TEST_KUBELET_TLS));
    try {
      const first = client.logs(request(true));
      await new Promise<void>((resolve, reject) => {
        first.once('data', (c: LogChunk) => (c.data.toString() === 'hello\n' ? resolve() : reject(new Error(`got ${c.data.toString()}`))));
        first.once('error', reject);
      });
      const refused = await new Promise<unknown>((resolve) => {
        const s = client.logs(request(true));
        s.on('data', () => undefined);
        s.once('error', resolve);
        s.once('end', () => resolve(undefined));
      });
      expect(fromGrpcError(refused).code).toBe('TooManyRequests');
      expect(fromGrpcError(refused).message).toContain('--max-log-follows');
      // A plain read is not a follow: it still works.
      const plain = await new Promise<string>((resolve, reject) => {
        let text = '';
        const s = client.logs(request(false));
        s.on('data', (c: LogChunk) => (text += c.data.toString()));
        s.once('error', reject);
        s.once('end', () => resolve(text));
      });
      expect(plain).toBe('hello\n');
      first.cancel();
      await new Promise<void>((resolve) => first.once('error', () => resolve()));
      // The slot is free again once the server sees the cancel.
      let again: unknown = 'refused';
      for (let i = 0; i < 50 && again !== undefined; i++) {
        again = await new Promise<unknown>((resolve) => {
          const s = client.logs(request(true));
          s.once('data', () => {
            s.cancel();
            resolve(undefined);
          });
          s.once('error', resolve);
        });
        if (again !== undefined) await new Promise((r) => setTimeout(r, 20));
      }
      expect(again).toBeUndefined();
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});

describe('NodeAgent mutual TLS', () => {
  const src = {
    status: () => Promise.reject(new Error('not used')),
    containersOf: () => ['app'],
    logFile: () => undefined,
    exec: () => Promise.resolve(undefined),
    execStream: () => Promise.resolve(undefined),
    forwardHost: () => undefined,
    stats: () => NodeStats.fromPartial({ nodeName: 'n1' }),
  } satisfies LogSource;

  const stats = (client: NodeAgentClient): Promise<NodeStats> => new Promise((resolve, reject) => {
    client.stats({}, new Metadata(), { deadline: Date.now() + 5000 }, (e, r) => {
      client.close();
      return e ? reject(fromGrpcError(e)) : resolve(r);
    });
  });

  it('answers the control plane only: plaintext, no certificate, another CA and a node certificate are refused', async () => {
    const { server, port } = await serveNodeAgent('127.0.0.1:0', src, { tls: TEST_AGENT_SERVING });
    const addr = `127.0.0.1:${port}`;
    try {
      expect((await stats(new NodeAgentClient(addr, grpcCredentials(addr, TEST_KUBELET_TLS)))).nodeName).toBe('n1');
      await expect(stats(new NodeAgentClient(addr, credentials.createInsecure()))).rejects.toMatchObject({ code: 'Unavailable' });
      await expect(stats(new NodeAgentClient(addr, grpcCredentials(addr, { ca: TEST_CA.cert })))).rejects.toMatchObject({ code: 'Unavailable' });
      const other = await createCa('skiff-test-ca');
      const stranger = await issueCertificate(other, { subject: { commonName: KUBELET_CLIENT_USER }, usages: ['client'] });
      await expect(stats(new NodeAgentClient(addr, grpcCredentials(addr, { ca: TEST_CA.cert, ...stranger })))).rejects.toMatchObject({ code: 'Unavailable' });
      const node = await testClientCertificate('system:node:n2', ['system:nodes']);
      await expect(stats(new NodeAgentClient(addr, grpcCredentials(addr, { ca: TEST_CA.cert, ...node }))))
        .rejects.toThrow(/"system:node:n2" may not call the node agent/);
      // and the control plane refuses an agent whose certificate another CA signed
      await expect(stats(new NodeAgentClient(addr, grpcCredentials(addr, { ca: other.cert, ...TEST_KUBELET_CLIENT })))).rejects.toThrow();
    } finally {
      server.forceShutdown();
    }
  });
});
