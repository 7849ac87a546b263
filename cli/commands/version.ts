// skiff version: the client's version and, when reachable, the server's.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { line, type Ctx } from '../context.js';

/** The version in the skiff package.json above this file (source tree or dist/). */
export function clientVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'skiff' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

export async function versionCommand(ctx: Ctx, clientOnly: boolean): Promise<number> {
  line(ctx.stdout, `Client Version: ${clientVersion()}`);
  if (clientOnly) return 0;
  const v = await ctx.api().version();
  line(ctx.stdout, `Server Version: ${v.version}${v.gitCommit ? ` (${v.gitCommit})` : ''}`);
  if (v.etcdVersion) line(ctx.stdout, `etcd Version: ${v.etcdVersion}`);
  if (v.leader) line(ctx.stdout, `Controller Leader: ${v.leader}`);
  return 0;
}
