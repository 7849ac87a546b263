// vitest global setup: one real etcd for the whole run (or the one in ETCD_ENDPOINTS), shared
// by tests that each work under their own key prefix. Tests that compact or kill etcd start
// their own with test/helpers/etcd.ts.
import type { TestProject } from 'vitest/node';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    etcdEndpoints: string;
  }
}

let server: EtcdServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  const existing = process.env.ETCD_ENDPOINTS;
  if (existing) {
    project.provide('etcdEndpoints', existing);
    return;
  }
  server = await startEtcd();
  project.provide('etcdEndpoints', server.endpoint);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
