// `build:` with buildah: the Dockerfile's FROM lines are pointed at the cluster's registry
// (there is no internet), the context is built with `buildah bud` and the image pushed to the
// cluster's registry under the project's name. Without buildah: an error saying how to get it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ApiError } from '../../proto/api/errors.js';

const run = promisify(execFile);

/**
 * FROM lines with an image that names no registry get the cluster registry in front
 * ("FROM redis:7" -> "FROM 127.0.0.1:5000/redis:7"); stage names, scratch and ARG-made
 * references stay as they are.
 */
export function resolveFrom(dockerfile: string, registry: string): string {
  const stages = new Set<string>();
  return dockerfile.split('\n').map((l) => {
    const m = /^(\s*FROM\s+)((?:--\S+\s+)*)(\S+)(\s+AS\s+(\S+))?(.*)$/i.exec(l);
    if (!m) return l;
    const [, from, flags = '', image = '', asPart = '', stage, rest = ''] = m;
    const out = (ref: string): string => `${from}${flags}${ref}${asPart}${rest}`;
    let ref = image;
    const first = image.split('/')[0] ?? '';
    const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
    if (!(image === 'scratch' || image.includes('$') || stages.has(image.toLowerCase()) || hasRegistry)) ref = `${registry}/${image}`;
    if (stage) stages.add(stage.toLowerCase());
    return out(ref);
  }).join('\n');
}

export async function buildahAvailable(): Promise<boolean> {
  try {
    await run('buildah', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** True when the registry serves the image reference (REGISTRY/NAME:TAG). */
export async function registryHasImage(ref: string): Promise<boolean> {
  const m = /^([^/]+)\/(.+?)(?::([^:/]+))?$/.exec(ref);
  if (!m) return false;
  try {
    const res = await fetch(`http://${m[1]}/v2/${m[2]}/manifests/${m[3] ?? 'latest'}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json' },
      signal: AbortSignal.timeout(5000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

export interface BuildSpec {
  service: string;
  /** The compose file's directory. */
  dir: string;
  context: string;
  dockerfile?: string;
  args: Record<string, string>;
  target?: string;
  image: string;
  registry: string;
}

export async function buildImage(b: BuildSpec, log: (s: string) => void): Promise<void> {
  if (!(await buildahAvailable())) {
    throw new ApiError('BadRequest', `services.${b.service}.build: building needs buildah, which is not installed: apt-get install buildah (Debian/Ubuntu), or build and push ${b.image} yourself`);
  }
  const context = resolve(b.dir, b.context);
  const dockerfile = resolve(context, b.dockerfile ?? 'Dockerfile');
  let text: string;
  try {
    text = await readFile(dockerfile, 'utf8');
  } catch {
    throw new ApiError('BadRequest', `services.${b.service}.build: cannot read ${dockerfile}`);
  }
  const tmp = await mkdtemp(join(tmpdir(), 'skiff-build-'));
  try {
    const patched = join(tmp, 'Dockerfile');
    await writeFile(patched, resolveFrom(text, b.registry));
    const args = ['bud', '--tls-verify=false', '--layers', '-f', patched, '-t', b.image];
    for (const [k, v] of Object.entries(b.args)) args.push('--build-arg', `${k}=${v}`);
    if (b.target) args.push('--target', b.target);
    args.push(context);
    log(`building ${b.service}: buildah ${args.join(' ')}`);
    await run('buildah', args, { maxBuffer: 64 << 20 }).catch((e: Error & { stderr?: string }) => {
      throw new ApiError('BadRequest', `services.${b.service}.build: buildah bud failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-5).join('\n')}`);
    });
    await run('buildah', ['push', '--tls-verify=false', b.image, `docker://${b.image}`], { maxBuffer: 64 << 20 }).catch((e: Error & { stderr?: string }) => {
      throw new ApiError('BadRequest', `services.${b.service}.build: pushing ${b.image} failed: ${(e.stderr ?? e.message).trim()}`);
    });
    log(`built and pushed ${b.image}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
