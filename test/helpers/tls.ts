// The test suite's cluster PKI: one CA per test process, a serving certificate for loopback
// that every in-process control plane uses, and client credentials that trust it, so every
// test runs with TLS on, as the product does.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate, KUBELET_CLIENT_USER, type CertAndKey } from '../../proto/api/pki/index.js';
import type { AgentServingTls } from '../../node-agent/server-tls.js';
import type { ClientTls } from '../../proto/api/tls-client.js';

export const TEST_CA: CertAndKey = await createCa('skiff-test-ca');

/** Serves 127.0.0.1, ::1 and localhost. */
export const TEST_SERVING: CertAndKey = await issueCertificate(TEST_CA, {
  subject: { commonName: 'skiff-control-plane' },
  usages: ['server'],
  hosts: ['127.0.0.1', '::1', 'localhost'],
});

/** What a client of a test control plane needs to verify it. */
export const TEST_CLIENT_TLS: ClientTls = { ca: TEST_CA.cert };

/** The control plane's client certificate for node agents, and how it verifies them. */
export const TEST_KUBELET_CLIENT: CertAndKey = await issueCertificate(TEST_CA, { subject: { commonName: KUBELET_CLIENT_USER }, usages: ['client'] });
export const TEST_KUBELET_TLS: ClientTls = { ca: TEST_CA.cert, ...TEST_KUBELET_CLIENT };

/** A test agent's NodeAgent service: the loopback serving certificate, callers of the test CA. */
export const TEST_AGENT_SERVING: AgentServingTls = { cert: TEST_SERVING.cert, key: TEST_SERVING.key, clientCa: TEST_CA.cert };

/** A client certificate of the test CA for this user and groups. */
export function testClientCertificate(name: string, groups: readonly string[] = []): Promise<CertAndKey> {
  return issueCertificate(TEST_CA, { subject: { commonName: name, organizations: groups }, usages: ['client'] });
}

export interface TestTlsFiles {
  /** --tls-cert-file / --tls-private-key-file of a control plane. */
  certFile: string;
  keyFile: string;
  /** --ca-file of an agent, certificate-authority of a CLI. */
  caFile: string;
  /** --kubelet-client-certificate / --kubelet-client-key of a control plane. */
  kubeletCertFile: string;
  kubeletKeyFile: string;
}

/** The test serving certificate and CA as files in dir (for control planes and agents run as processes). */
export async function writeTestTlsFiles(dir: string): Promise<TestTlsFiles> {
  await mkdir(dir, { recursive: true });
  const f = {
    certFile: join(dir, 'apiserver.crt'), keyFile: join(dir, 'apiserver.key'), caFile: join(dir, 'ca.crt'),
    kubeletCertFile: join(dir, 'kubelet-client.crt'), kubeletKeyFile: join(dir, 'kubelet-client.key'),
  };
  await writeFile(f.kubeletCertFile, TEST_KUBELET_CLIENT.cert);
  await writeFile(f.kubeletKeyFile, TEST_KUBELET_CLIENT.key, { mode: 0o600 });
  await writeFile(f.certFile, TEST_SERVING.cert);
  await writeFile(f.keyFile, TEST_SERVING.key, { mode: 0o600 });
  await writeFile(f.caFile, TEST_CA.cert);
  return f;
}

let shared: Promise<TestTlsFiles> | undefined;

/** writeTestTlsFiles in a temporary directory, once per process. */
export function testTlsFiles(): Promise<TestTlsFiles> {
  shared ??= mkdtemp(join(tmpdir(), 'skiff-test-tls-')).then(writeTestTlsFiles);
  return shared;
}

/** Control-plane flags for the test PKI: serving certificate, and mutual TLS to agents. */
export function controlPlaneTlsArgs(f: TestTlsFiles): string[] {
  return [
    '--tls-cert-file', f.certFile, '--tls-private-key-file', f.keyFile,
    '--kubelet-certificate-authority', f.caFile, '--kubelet-client-certificate', f.kubeletCertFile, '--kubelet-client-key', f.kubeletKeyFile,
  ];
}

/** Agent flags for the test PKI: trust the control plane, serve the NodeAgent service to it only. */
export function agentTlsArgs(f: TestTlsFiles): string[] {
  return ['--ca-file', f.caFile, '--tls-cert-file', f.certFile, '--tls-private-key-file', f.keyFile, '--client-ca-file', f.caFile];
}
