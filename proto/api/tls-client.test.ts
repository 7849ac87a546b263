// grpc-js would send the dialled IP address as the TLS server name; Node warns about that
// (DEP0123, once per process). This file's process dials only IP addresses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../control-plane/api/testing.js';
import { testStore, type TestStore } from '../../test/helpers/etcd-client.js';
import { createCa } from './pki/index.js';

let ts: TestStore;
let srv: TestServer;
const warnings: string[] = [];
const onWarning = (w: Error & { code?: string }): void => {
  warnings.push(`${w.code ?? ''} ${w.message}`);
};

beforeAll(async () => {
  process.on('warning', onWarning);
  ts = testStore();
  srv = await startTestServer(ts.store);
});

afterAll(async () => {
  process.off('warning', onWarning);
  await srv?.stop();
  await ts?.close();
});

describe('grpcCredentials', () => {
  it('dials an IP address without setting it as the TLS server name, and still checks the certificate against it', async () => {
    expect((await srv.api.version()).version).not.toBe('');
    const wrongCa = srv.connect('', { ca: (await createCa('other')).cert });
    await expect(wrongCa.version()).rejects.toThrow();
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.includes('DEP0123') || w.includes('TLS ServerName'))).toEqual([]);
  });
});
