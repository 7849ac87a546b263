// The project's name and namespace for verbs that work without translating (down, ps, logs):
// from the file when there is one (its name: key counts), else from -p or the directory.
import { basename } from 'node:path';
import { ApiError, isApiError } from '../../proto/api/errors.js';
import { loadProject } from './load.js';
import { k8sName, normalizeProjectName } from './translate/names.js';

export interface ComposeGlobals {
  file?: string;
  projectName?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function prepareName(g: ComposeGlobals): { name: string; namespace: string } {
  try {
    const { project } = loadProject(g);
    return { name: project.name, namespace: project.namespace };
  } catch (e) {
    // Without a readable file (e.g. `down` after deleting it) -p or the directory still names it.
    if (!(isApiError(e, 'BadRequest') && (g.projectName || !g.file))) throw e;
  }
  const name = normalizeProjectName(g.projectName ?? g.env.COMPOSE_PROJECT_NAME ?? basename(g.cwd));
  const namespace = k8sName(name);
  if (!name || !namespace) throw new ApiError('BadRequest', 'cannot tell the project name: give it with -p NAME');
  return { name, namespace };
}
