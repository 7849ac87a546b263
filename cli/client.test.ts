// The CLI's client against a real API server (real etcd): a list bigger than grpc-js' 4 MiB
// default receive limit still arrives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../control-plane/api/testing.js';
import { wrap } from '../proto/api/kinds.js';
import { fromManifest } from '../proto/api/manifest.js';
import { testStore, type TestStore } from '../test/helpers/etcd-client.js';
import { Api } from './client.js';

let ts: TestStore;
let srv: TestServer;
beforeAll(async () => {
  ts = testStore();
  srv = await startTestServer(ts.store);
});
afterAll(async () => {
  await srv.stop();
  await ts.close();
});

describe('CLI client message size', () => {
  it('receives a list of more than 4 MiB', async () => {
    // Five ConfigMaps of 900 KiB each (under the 1 MiB a ConfigMap may hold): about 4.4 MiB.
    const big = 'x'.repeat(900 * 1024);
    for (let i = 0; i < 5; i++) {
      const { info, object } = fromManifest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${i}`, namespace: 'default' }, data: { blob: big } });
      await srv.api.create({ object: wrap(info.kind, object) });
    }
    const cli = new Api({ server: `127.0.0.1:${srv.server.port}`, token: '', tls: srv.clientTls });
    try {
      const list = await cli.list({ kind: 'ConfigMap', namespace: 'default' });
      expect(list.items).toHaveLength(5);
    } finally {
      cli.close();
    }
  });
});
