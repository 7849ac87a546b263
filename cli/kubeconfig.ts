// The kubeconfig for kubectl and Kubernetes client libraries: the control plane's REST API
// (HTTPS, the gRPC port + 1 unless told otherwise), its CA and the CLI's bearer token.
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { errors } from '../proto/api/errors.js';

export interface KubeconfigInput {
  /** https://host:port of the REST API. */
  server: string;
  token: string;
  namespace: string;
  /** PEM CA; without it the kubeconfig skips TLS verification. */
  ca?: string;
}

/** The REST API's URL for a gRPC address (host:port): the same host, port + 1. */
export function restServerFor(grpcAddress: string): string {
  const i = grpcAddress.lastIndexOf(':');
  const port = Number(grpcAddress.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port <= 0) throw errors.badRequest(`cannot derive the REST address from server "${grpcAddress}": give --rest-server https://HOST:PORT`);
  return `https://${grpcAddress.slice(0, i)}:${port + 1}`;
}

export function kubeconfigYaml(k: KubeconfigInput): string {
  const cluster: Record<string, string | boolean> = { server: k.server };
  if (k.ca) cluster['certificate-authority-data'] = Buffer.from(k.ca).toString('base64');
  else cluster['insecure-skip-tls-verify'] = true;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'skiff', cluster }],
    users: [{ name: 'skiff', user: k.token ? { token: k.token } : {} }],
    contexts: [{ name: 'skiff', context: { cluster: 'skiff', user: 'skiff', namespace: k.namespace || 'default' } }],
    'current-context': 'skiff',
    preferences: {},
  });
}

/** Reads a CA file if it is there; undefined when missing. */
export async function readCaIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function writeKubeconfig(path: string, k: KubeconfigInput): Promise<void> {
  await writeFile(path, kubeconfigYaml(k), { mode: 0o600 });
}
