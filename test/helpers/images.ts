// Skiff's sample images as OCI archives, built offline by scripts/build-images.sh and cached
// under ~/.cache/skiff/images (keyed by a hash of the inputs), so tests build them once.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
// The checkout's root: the nearest folder up with package.json, from source or from dist/.
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'deploy'))) return dir;
    if (dirname(dir) === dir) return join(from, '..', '..');
  }
}
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

export interface ImageArchive {
  /** Repository without registry, e.g. "skiff/hello". */
  name: string;
  tag: string;
  /** OCI archive whose manifest is tagged `tag`. */
  archive: string;
}

export const IMAGES = {
  pause: 'skiff/pause:1',
  hello1: 'skiff/hello:1',
  hello2: 'skiff/hello:2',
  crasher: 'skiff/crasher:1',
  redis: 'skiff/redis:7',
  counter: 'skiff/counter:1',
  burner: 'skiff/burner:1',
} as const;

let built: Promise<ImageArchive[]> | undefined;

/** Builds (or finds in the cache) every sample image. */
export function sampleImages(): Promise<ImageArchive[]> {
  built ??= (async () => {
    const { stdout } = await run('bash', [join(REPO_ROOT, 'scripts/build-images.sh')], { maxBuffer: 16 << 20 });
    const dir = stdout.trim().split('\n').pop() ?? '';
    const index = await readFile(join(dir, 'index.txt'), 'utf8');
    return index
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const [name = '', tag = '', file = ''] = l.split(' ');
        return { name, tag, archive: join(dir, file) };
      });
  })();
  return built;
}

export async function sampleImage(ref: string): Promise<ImageArchive> {
  const all = await sampleImages();
  const found = all.find((i) => `${i.name}:${i.tag}` === ref);
  if (!found) throw new Error(`no sample image ${ref} (have ${all.map((i) => `${i.name}:${i.tag}`).join(', ')})`);
  return found;
}
