// The idempotent step of `skiff up`: reuse what an earlier run left running and healthy, else
// start it, then wait until it answers. Also the health probes that need the API.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { unwrapAs } from '../../proto/api/kinds.js';
import type { Node } from '../../proto/gen/skiff/v1/core.js';
import { Api } from '../client.js';
import { waitFor } from './health.js';
import type { Layout } from './layout.js';
import { logTail, runningPid, startDetached, stopPid, type Component } from './processes.js';
import type { ClientTls } from '../../proto/api/tls-client.js';

export interface Started {
  pid: number;
  fresh: boolean;
}

/** Reuses the running component when it is healthy, else starts it; waits until healthy. */
export async function ensure(
  l: Layout, name: Component, healthy: () => Promise<boolean>, start: () => Promise<[string, string[]]>, timeoutMs: number,
): Promise<Started> {
  const existing = await runningPid(l, name);
  if (existing !== undefined) {
    try {
      await waitFor(name, existing, healthy, Math.min(timeoutMs, 15_000), () => logTail(l, name));
      return { pid: existing, fresh: false };
    } catch {
      // Running but not answering (a wedged process, or one started with old settings): replace it.
      await stopPid(existing);
    }
  }
  const [cmd, args] = await start();
  const pid = await startDetached(l, name, cmd, args);
  await waitFor(name, pid, healthy, timeoutMs, () => logTail(l, name));
  return { pid, fresh: true };
}

export const said = (s: Started, where: string): string => `${s.fresh ? 'started' : 'already running'} on ${where} (pid ${s.pid})`;

/**
 * The control plane's encryption key file, written once with one random AES-256 key (format:
 * control-plane/storage/encryption.ts, `keys: [{name, secret}]`); kept across `up`s so the
 * Secrets in etcd stay readable. Mode 0600.
 */
export async function ensureEncryptionKey(l: Layout): Promise<void> {
  const existing = await readFile(l.encryptionKeyFile, 'utf8').catch(() => '');
  if (!existing) {
    const text = `# Secrets are encrypted at rest with the first key (AES-256-GCM); every key listed decrypts.\nkeys:\n  - name: key-1\n    secret: ${randomBytes(32).toString('base64')}\n`;
    await writeFile(l.encryptionKeyFile, text, { mode: 0o600, flag: 'wx' });
  }
  await chmod(l.encryptionKeyFile, 0o600);
}

export const isReady = (node: Node): boolean => node.status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export async function nodeReady(api: Api, name: string): Promise<boolean> {
  return isReady(unwrapAs('Node', await api.get({ kind: 'Node', name })));
}

/**
 * One health probe on a fresh connection: a CLI Api remembers a failed connect for good (it is
 * made for one-shot commands), and the server may not be listening at the first probe.
 */
export async function withApi(server: string, token: string, tls: ClientTls, probe: (api: Api) => Promise<boolean>): Promise<boolean> {
  const api = new Api({ server, token, tls, timeoutMs: 2000 });
  try {
    return await probe(api);
  } catch {
    return false;
  } finally {
    api.close();
  }
}
