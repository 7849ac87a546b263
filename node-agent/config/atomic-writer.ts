// Writes a volume's files so a reader never sees a half-updated set, as the kubelet's
// AtomicWriter does: the files go into a fresh timestamped directory `..<time>.<rand>`, a
// symlink `..data_tmp` to it is renamed over `..data` (rename is atomic), and each top-level
// entry of the volume is a symlink `<name> -> ..data/<name>`. The previous directory is then
// removed. Nothing is written when the content and modes are unchanged.
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProjectedFile } from './projection.js';

const DATA = '..data';
const DATA_TMP = '..data_tmp';

async function readTree(root: string, rel = ''): Promise<Map<string, ProjectedFile>> {
  const out = new Map<string, ProjectedFile>();
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of await readTree(root, p)) out.set(k, v);
    else if (e.isFile()) {
      const st = await stat(join(root, p));
      out.set(p, { data: await readFile(join(root, p)), mode: st.mode & 0o777 });
    }
  }
  return out;
}

function same(a: Map<string, ProjectedFile>, b: Map<string, ProjectedFile>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, x] of a) {
    const y = b.get(k);
    if (!y || y.mode !== x.mode || !y.data.equals(x.data)) return false;
  }
  return true;
}

const topLevel = (paths: Iterable<string>): Set<string> => new Set([...paths].map((p) => p.split('/')[0]!));

function stamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
}

/** The files the volume shows now (through ..data); empty when it was never written. */
export async function currentFiles(dir: string): Promise<Map<string, ProjectedFile>> {
  const target = await readlink(join(dir, DATA)).catch(() => undefined);
  return target ? readTree(join(dir, target)) : new Map();
}

/** Makes dir show exactly these files; returns whether anything changed. */
export async function writeAtomic(dir: string, files: ReadonlyMap<string, ProjectedFile>, now = new Date()): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const oldTarget = await readlink(join(dir, DATA)).catch(() => undefined);
  const old = oldTarget ? await readTree(join(dir, oldTarget)) : new Map<string, ProjectedFile>();
  if (oldTarget && same(old, new Map(files))) return false;
  const tsDir = await mkdtemp(join(dir, `..${stamp(now)}.`));
  await chmod(tsDir, 0o755);
  for (const [p, f] of files) {
    const full = join(tsDir, p);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, f.data, { mode: f.mode });
    await chmod(full, f.mode);
  }
  const tsName = tsDir.slice(dir.length + 1);
  await rm(join(dir, DATA_TMP), { force: true });
  await symlink(tsName, join(dir, DATA_TMP));
  await rename(join(dir, DATA_TMP), join(dir, DATA));
  const next = topLevel(files.keys());
  for (const name of next) {
    const link = join(dir, name);
    const st = await lstat(link).catch(() => undefined);
    if (!st) await symlink(`${DATA}/${name}`, link);
  }
  for (const name of topLevel(old.keys())) {
    if (!next.has(name)) await unlink(join(dir, name)).catch(() => undefined);
  }
  if (oldTarget) await rm(join(dir, oldTarget), { recursive: true, force: true });
  return true;
}
