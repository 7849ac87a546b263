// A whole small cluster in the test process for the REST API tests: a real etcd (the shared
// test etcd under a fresh prefix), the API server with its REST listener and a bearer token,
// the controllers (ReplicaSet, Deployment, scheduler...) and one node agent on the fake
// runtime, so Deployments roll out and pods become Ready and have logs.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startControllerManager, type ControllerManager } from '../../control-plane/controllers/manager.js';
import { startTestServer, type TestServer } from '../../control-plane/api/testing.js';
import { NodeAgent } from '../../node-agent/agent.js';
import { FakeRuntime } from '../../node-agent/runtime/fake/driver.js';
import { FakeHost } from '../../node-agent/runtime/fake/host.js';
import { kubeconfigYaml } from '../../cli/kubeconfig.js';
import { TEST_AGENT_SERVING, TEST_CA } from './tls.js';
import { testStore, type TestStore } from './etcd-client.js';
import { parseTokens } from '../../control-plane/api/auth.js';

export interface RestCluster {
  ts: TestStore;
  server: TestServer;
  /** http://127.0.0.1:PORT of the REST API. */
  url: string;
  token: string;
  /** PEM CA of the REST API (its self-signed certificate). */
  ca: string;
  /** A directory for this run (kubeconfig, kubectl's cache as HOME). */
  dir: string;
  kubeconfig: string;
  nodeName: string;
  stop(): Promise<void>;
}

const log = pino({ level: process.env.SKIFF_TEST_LOG ?? 'silent' });

export async function startRestCluster(opts: { agent?: boolean } = {}): Promise<RestCluster> {
  const ts = testStore();
  const token = randomBytes(16).toString('hex');
  const server = await startTestServer(ts.store, { restListen: '127.0.0.1:0', tokens: parseTokens(`${token},admin,admin,"system:masters"`) });
  const url = `https://127.0.0.1:${server.server.restPort}`;
  const dir = await mkdtemp(join(tmpdir(), 'skiff-rest-'));
  const kubeconfig = join(dir, 'kubeconfig');
  // The CLI's own builder (`skiff config kubeconfig`), so kubectl tests cover what users get.
  await writeFile(kubeconfig, kubeconfigYaml({ server: url, token, namespace: 'default', ca: TEST_CA.cert }));
  const manager: ControllerManager = await startControllerManager({
    store: ts.store, informers: server.informers, etcd: ts.client, identity: `rest-test-${process.pid}`,
  });
  const nodeName = `node-${randomBytes(3).toString('hex')}`;
  let agent: NodeAgent | undefined;
  if (opts.agent !== false) {
    const host = new FakeHost({
      imageConfig: {
        'docker.io/skiff/logger:1': {
          program: () => ({
            steps: [
              { kind: 'out', stream: 'stdout', text: 'line 1\n' },
              { kind: 'out', stream: 'stdout', text: 'line 2\n' },
              { kind: 'out', stream: 'stdout', text: 'line 3\n' },
              { kind: 'forever' },
            ],
            onTerm: { exit: 0 },
          }),
        },
      },
    });
    agent = new NodeAgent({
      nodeName, controlPlane: `127.0.0.1:${server.server.port}`, token, tls: server.clientTls, serving: TEST_AGENT_SERVING, runtime: new FakeRuntime({ host, nodeName }),
      stateDir: join(dir, 'agent'), podCIDR: '10.244.7.0/24', listen: '127.0.0.1:0', log, nodeIP: '127.0.0.1',
      capacity: { cpu: '16', memory: '64Gi', pods: '110' },
    });
    await agent.start();
  }
  return {
    ts, server, url, token, ca: TEST_CA.cert, dir, kubeconfig, nodeName,
    async stop() {
      await agent?.stop();
      await manager.stop();
      await server.stop();
      await ts.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
