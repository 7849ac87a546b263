// Loading a project: find the file (-f, else compose.yaml, compose.yml, docker-compose.yml,
// docker-compose.yaml in the current directory), read .env next to it, parse the YAML,
// interpolate, validate against the Compose schema, then check every key (keys.ts). The
// project name is -p, else the file's `name:`, else COMPOSE_PROJECT_NAME, else the directory
// name, normalised as Compose does; its namespace is that name as a DNS label.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ApiError, cause } from '../../proto/api/errors.js';
import { DotenvError, parseDotenv } from './dotenv.js';
import { interpolateTree } from './interpolate.js';
import { checkKeys, type Diagnostic } from './keys.js';
import type { ComposeFile, Project } from './model.js';
import { validateSchema } from './schema.js';
import { k8sName, normalizeProjectName } from './translate/names.js';

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

export interface LoadOptions {
  file?: string;
  projectName?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface Loaded {
  project: Project;
  /** Warnings (and, when errors is thrown, nothing else): printed by the verbs. */
  warnings: Diagnostic[];
}

export function findComposeFile(cwd: string, file: string | undefined): string {
  if (file) {
    const p = resolve(cwd, file);
    if (!existsSync(p)) throw new ApiError('BadRequest', `compose file ${p} not found`);
    return p;
  }
  for (const name of DEFAULT_FILES) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  throw new ApiError('BadRequest', `no compose file in ${cwd}: looked for ${DEFAULT_FILES.join(', ')} (or give one with -f FILE)`);
}

/** One Invalid error listing every problem with its key path, the file as the source. */
export function diagnosticsError(file: string, errs: Diagnostic[]): ApiError {
  return new ApiError('Invalid', `${file}: ${errs.length} problem${errs.length === 1 ? '' : 's'}; nothing was applied`,
    errs.map((d) => cause(d.path, d.message, file)));
}

/** Parses and checks compose text (split out of loadProject for tests). */
export function parseProject(text: string, file: string, opts: { projectName?: string; env: (n: string) => string | undefined; dirName: string }): Loaded {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    throw new ApiError('Invalid', `cannot parse ${file}`, doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return cause('', e.message.split('\n')[0] ?? e.message, `${file}:${pos.line}:${pos.col}`);
    }));
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ApiError('Invalid', `${file}: expected a mapping with services:`);
  const { value, unset } = interpolateTree(raw, opts.env, file);
  const warnings: Diagnostic[] = unset.map((n) => ({ level: 'warning', path: '(interpolation)', message: `the ${n} variable is not set; defaulting to a blank string` }));
  const schemaErrors = validateSchema(value);
  if (schemaErrors.length) throw diagnosticsError(file, schemaErrors);
  const model = value as ComposeFile;
  const keyDiags = checkKeys(model);
  const errs = keyDiags.filter((d) => d.level === 'error');
  if (errs.length) throw diagnosticsError(file, errs);
  warnings.push(...keyDiags);
  const name = normalizeProjectName(opts.projectName ?? model.name ?? opts.env('COMPOSE_PROJECT_NAME') ?? opts.dirName);
  if (!name) throw new ApiError('BadRequest', `cannot make a project name of "${opts.projectName ?? model.name ?? opts.dirName}": give one with -p NAME (letters, digits, - and _)`);
  const namespace = k8sName(name);
  if (!namespace) throw new ApiError('BadRequest', `project name "${name}" does not make a namespace: give one with -p NAME`);
  return { project: { name, namespace, file, dir: dirname(file), model, env: opts.env }, warnings };
}

export function loadProject(opts: LoadOptions): Loaded {
  const file = findComposeFile(opts.cwd, opts.file);
  const dir = dirname(file);
  const dotenvPath = resolve(dir, '.env');
  let dotenv = new Map<string, string | undefined>();
  if (existsSync(dotenvPath)) {
    try {
      dotenv = parseDotenv(readFileSync(dotenvPath, 'utf8'), dotenvPath, (n) => opts.env[n]);
    } catch (e) {
      if (e instanceof DotenvError) throw new ApiError('Invalid', e.message);
      throw e;
    }
  }
  // The shell's environment wins over .env, as in Compose.
  const env = (n: string): string | undefined => opts.env[n] ?? dotenv.get(n);
  return parseProject(readFileSync(file, 'utf8'), file, { projectName: opts.projectName, env, dirName: basename(dir) });
}
