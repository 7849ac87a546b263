// The sample images (deploy/images): built offline by scripts/build-images.sh (cached OCI
// archives) and pushed with skopeo into the cluster's registry.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './layout.js';

const run = promisify(execFile);

export interface ImageArchive {
  name: string;
  tag: string;
  archive: string;
}

export async function buildSampleImages(): Promise<ImageArchive[]> {
  const { stdout } = await run('bash', [join(repoRoot(), 'scripts', 'build-images.sh')], { maxBuffer: 16 << 20 });
  const dir = stdout.trim().split('\n').pop() ?? '';
  const index = await readFile(join(dir, 'index.txt'), 'utf8');
  return index.split('\n').filter((l) => l.trim()).map((l) => {
    const [name = '', tag = '', file = ''] = l.split(' ');
    return { name, tag, archive: join(dir, file) };
  });
}

/** True when the registry already serves name:tag (so a re-run pushes nothing). */
export async function registryHas(registry: string, img: ImageArchive): Promise<boolean> {
  try {
    const res = await fetch(`http://${registry}/v2/${img.name}/manifests/${img.tag}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    return res.ok;
  } catch {
    return false;
  }
}

export async function pushImage(registry: string, img: ImageArchive): Promise<string> {
  const ref = `${registry}/${img.name}:${img.tag}`;
  await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci-archive:${img.archive}:${img.tag}`, `docker://${ref}`], {
    maxBuffer: 16 << 20,
  });
  return ref;
}
