// Test helpers: a project from compose text with an in-memory environment and files.
import { parseProject } from './load.js';
import type { Diagnostic } from './keys.js';
import { translateProject, type Translation } from './translate/index.js';

export const TEST_DIR = '/srv/app';

export function compose(text: string, opts: { env?: Record<string, string>; files?: Record<string, string>; project?: string } = {}): Translation & { warnings: Diagnostic[] } {
  const env = opts.env ?? {};
  const { project, warnings } = parseProject(text, `${TEST_DIR}/compose.yaml`, { projectName: opts.project, env: (n) => env[n], dirName: 'app' });
  const files = opts.files ?? {};
  const t = translateProject(project, {
    registry: '127.0.0.1:5000',
    readFile: (p) => {
      const f = files[p];
      if (f === undefined) throw new Error(`ENOENT ${p}`);
      return f;
    },
  });
  return { ...t, warnings };
}
