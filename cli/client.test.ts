// The CLI's client against a real API server (real etcd): a list bigger than grpc-js' 4 MiB
// default receive limit still arrives; a server that starts after the client's first call is
// reached by a later one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../control-plane/api/testing.js';
import { freePort } from '../test/helpers/ports.js';
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

describe('CLI client connection', () => {
  it('reaches a control plane that was not up within the connect timeout of an earlier call', async () => {
    const port = await freePort();
    const cli = new Api({ server: `127.0.0.1:${port}`, token: '', tls: srv.clientTls, connectTimeoutMs: 300 });
    let late: TestServer | undefined;
    try {
      await expect(cli.version()).rejects.toMatchObject({ code: 'Unavailable' });
      late = await startTestServer(ts.store, { listen: `127.0.0.1:${port}` });
      let answered = false;
      for (let i = 0; i < 50 && !answered; i++) {
        answered = await cli.version().then(() => true, () => false);
        if (!answered) await new Promise((r) => setTimeout(r, 100));
      }
      expect(answered).toBe(true);
    } finally {
      cli.close();
      await late?.stop();
    }
  });
});
