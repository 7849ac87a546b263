import { credentials } from '@grpc/grpc-js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromGrpcError } from '../proto/api/errors.js';
import { NodeAgentClient, NodeStats } from '../proto/gen/skiff/v1/agent.js';
import type { LogChunk, LogsRequest } from '../proto/gen/skiff/v1/api.js';
import { serveNodeAgent, type LogSource } from './server.js';

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
    const { server, port } = await serveNodeAgent('127.0.0.1:0', src, { maxLogFollows: 1 });
    const client = new NodeAgentClient(`127.0.0.1:${port}`, credentials.createInsecure());
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
