// Registry credentials for an image from the pod's imagePullSecrets, as the kubelet's
// credential keyring matches them: the image's registry host (docker.io for bare names)
// against each .dockerconfigjson (or .dockercfg) entry's host, taking the first secret that
// has one. Entries may be URLs ("https://127.0.0.1:5000/v1/"); only the host[:port] counts. Pure.
import type { Secret } from '../../proto/gen/skiff/v1/config.js';
import type { ImageAuth } from '../runtime/runtime.js';

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The registry host of an image reference: "127.0.0.1:5000/a/b:1" -> "127.0.0.1:5000", "nginx" -> "docker.io". */
export function registryHost(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

function entryHost(key: string): string {
  const noScheme = key.replace(/^[a-z]+:\/\//i, '');
  return noScheme.split('/')[0]!.toLowerCase();
}

function sameRegistry(a: string, b: string): boolean {
  return a === b || (DOCKER_HUB.has(a) && DOCKER_HUB.has(b));
}

interface AuthEntry {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
}

function entries(s: Secret): Record<string, AuthEntry> {
  const json = s.data['.dockerconfigjson'] ?? s.data['.dockercfg'];
  if (!json) return {};
  try {
    const doc = JSON.parse(Buffer.from(json).toString('utf8')) as { auths?: Record<string, AuthEntry> } & Record<string, AuthEntry>;
    return s.type === 'kubernetes.io/dockercfg' ? doc : (doc.auths ?? {});
  } catch {
    return {};
  }
}

export function pullAuth(image: string, secrets: readonly Secret[]): ImageAuth | undefined {
  const host = registryHost(image).toLowerCase();
  for (const s of secrets) {
    for (const [key, e] of Object.entries(entries(s))) {
      if (!sameRegistry(entryHost(key), host)) continue;
      // No serverAddress: containerd parses it as a URL and drops credentials whose host does not
      // match the image's, which a bare "host:port" key never would; the match is made here.
      return { username: e.username, password: e.password, auth: e.auth, identityToken: e.identitytoken, registryToken: e.registrytoken };
    }
  }
  return undefined;
}
