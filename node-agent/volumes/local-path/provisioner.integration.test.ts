// The node's half of the local-path provisioner against the real API server on etcd: it
// publishes its directory on its Node, makes the directory of a volume pinned to it (and not of
// one pinned elsewhere), and on deletion removes the data before the volume object goes.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realClock } from '../../../proto/api/clock.js';
import { isApiError } from '../../../proto/api/errors.js';
import { LOCAL_PATH_DIR_ANNOTATION, LOCAL_PATH_FINALIZER, PROVISIONED_BY_ANNOTATION, PV_PROTECTION_FINALIZER, hostnameAffinity } from '../../../proto/api/storage.js';
import { Node } from '../../../proto/gen/skiff/v1/core.js';
import { PersistentVolume } from '../../../proto/gen/skiff/v1/storage.js';
import { startTestServer, type TestServer } from '../../../control-plane/api/testing.js';
import { testStore, type TestStore } from '../../../test/helpers/etcd-client.js';
import { until } from '../../../test/helpers/wait.js';
import { AgentApi } from '../../api-client.js';
import { LocalPathProvisioner } from './provisioner.js';
import { TEST_CLIENT_TLS } from '../../../test/helpers/tls.js';

let ts: TestStore;
let srv: TestServer;
let api: AgentApi;
let dir: string;
let provisioner: LocalPathProvisioner;

function volume(name: string, nodeName: string): PersistentVolume {
  return PersistentVolume.fromPartial({
    metadata: { name, annotations: { [PROVISIONED_BY_ANNOTATION]: 'skiff.io/local-path' }, finalizers: [LOCAL_PATH_FINALIZER] },
    spec: {
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path',
      hostPath: { path: join(dir, name), type: 'DirectoryOrCreate' }, nodeAffinity: { required: hostnameAffinity(nodeName) },
    },
  });
}

const gone = async (name: string): Promise<boolean> =>
  api.get('PersistentVolume', '', name).then(() => false, (e: unknown) => {
    if (isApiError(e, 'NotFound')) return true;
    throw e;
  });

beforeEach(async () => {
  ts = testStore();
  srv = await startTestServer(ts.store);
  api = new AgentApi({ tls: TEST_CLIENT_TLS, address: `127.0.0.1:${srv.server.port}` });
  dir = await mkdtemp(join(tmpdir(), 'skiff-local-path-'));
  provisioner = new LocalPathProvisioner({ api, nodeName: 'n1', dir, clock: realClock, log: pino({ level: 'silent' }) });
});

afterEach(async () => {
  await provisioner.stop();
  api.close();
  await srv.stop();
  await ts.close();
  await rm(dir, { recursive: true, force: true });
});

describe('LocalPathProvisioner', () => {
  it('publishes its directory, keeps its volumes\' directories and removes a deleted one\'s data', async () => {
    await api.create('Node', Node.fromPartial({ metadata: { name: 'n1' } }));
    await api.create('PersistentVolume', volume('pvc-mine', 'n1'));
    await api.create('PersistentVolume', volume('pvc-other', 'n2'));
    await provisioner.start();
    await until(async () => (await api.get('Node', '', 'n1')).metadata?.annotations[LOCAL_PATH_DIR_ANNOTATION] === dir, 10_000, 'directory published');
    await until(() => Promise.resolve(existsSync(join(dir, 'pvc-mine'))), 10_000, 'volume directory made');
    expect((await stat(join(dir, 'pvc-mine'))).mode & 0o777).toBe(0o777);
    expect(existsSync(join(dir, 'pvc-other'))).toBe(false);

    await writeFile(join(dir, 'pvc-mine', 'data'), 'x');
    await api.delete({ kind: 'PersistentVolume', namespace: '', name: 'pvc-mine' });
    // pv-protection (added by the API server) still holds it: the binder has not let go yet.
    const deleting = await api.get('PersistentVolume', '', 'pvc-mine');
    expect(deleting.metadata?.finalizers.sort()).toEqual([PV_PROTECTION_FINALIZER, LOCAL_PATH_FINALIZER].sort());
    expect(existsSync(join(dir, 'pvc-mine', 'data'))).toBe(true);
    // What the binding controller does once the volume is not Bound.
    deleting.metadata!.finalizers = [LOCAL_PATH_FINALIZER];
    await api.update('PersistentVolume', deleting);
    await until(() => gone('pvc-mine'), 10_000, 'volume released by the agent');
    expect(existsSync(join(dir, 'pvc-mine'))).toBe(false);
  });
});
