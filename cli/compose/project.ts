// What every compose verb starts with: the project loaded and translated, warnings printed,
// refusals thrown as one Invalid error naming the file and every key.
import { readFileSync } from 'node:fs';
import { line, type Output } from '../context.js';
import { diagnosticsError, loadProject } from './load.js';
import type { Project } from './model.js';
import { translateProject, type Translation } from './translate/index.js';

import type { ComposeGlobals } from './project-name.js';

export type { ComposeGlobals };

/** Where built images go: SKIFF_REGISTRY, else the local cluster's registry. */
export function registryOf(env: NodeJS.ProcessEnv): string {
  return env.SKIFF_REGISTRY ?? '127.0.0.1:5000';
}

export function prepare(g: ComposeGlobals, stderr: Output): { project: Project; translation: Translation } {
  const { project, warnings } = loadProject({ file: g.file, projectName: g.projectName, cwd: g.cwd, env: g.env });
  const translation = translateProject(project, { registry: registryOf(g.env), readFile: (p) => readFileSync(p, 'utf8') });
  for (const w of [...warnings, ...translation.diagnostics.filter((d) => d.level === 'warning')]) line(stderr, `warning: ${w.path}: ${w.message}`);
  const errs = translation.diagnostics.filter((d) => d.level === 'error');
  if (errs.length) throw diagnosticsError(project.file, errs);
  return { project, translation };
}
