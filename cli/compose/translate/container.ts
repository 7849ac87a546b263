// The container of a service: image, entrypoint -> command, command -> args (Kubernetes' names
// are the other way round), environment over env_file, working_dir, user, tty/stdin_open,
// pull_policy and the short resource keys (cpus, mem_limit, mem_reservation).
import { parseDotenv, DotenvError } from '../dotenv.js';
import { listOrDict, truthy, type JsonMap, type ServiceSpec } from '../model.js';
import { bytesQuantity, cpuQuantity, projectPath, refuse, warn, type TranslateContext } from './context.js';

/** Compose's string form of command/entrypoint splits like a POSIX shell (quotes, backslashes). */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | '' = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q === "'") {
      if (c === "'") q = '';
      else cur += c;
    } else if (q === '"') {
      if (c === '"') q = '';
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (has || cur) out.push(cur);
  return out;
}

function argv(v: string | string[] | null | undefined): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? shellSplit(v) : v.map(String);
}

/** env_file entries in order, then environment (which wins), as Compose merges them. */
export function environment(ctx: TranslateContext, name: string, svc: ServiceSpec): { name: string; value: string }[] {
  const base = `services.${name}`;
  const env = new Map<string, string>();
  const files = svc.env_file === undefined ? [] : typeof svc.env_file === 'string' ? [svc.env_file] : svc.env_file;
  files.forEach((f, i) => {
    const path = typeof f === 'string' ? f : f.path;
    const required = typeof f === 'string' ? true : f.required === undefined ? true : truthy(f.required);
    const abs = projectPath(ctx, path);
    let text: string;
    try {
      text = ctx.readFile(abs);
    } catch {
      if (required) refuse(ctx, `${base}.env_file[${i}]`, `cannot read ${abs} (set required: false to allow a missing file)`);
      return;
    }
    try {
      for (const [k, v] of parseDotenv(text, abs, ctx.project.env)) if (v !== undefined) env.set(k, v);
    } catch (e) {
      if (e instanceof DotenvError) refuse(ctx, `${base}.env_file[${i}]`, e.message);
      else throw e;
    }
  });
  for (const [k, v] of listOrDict(svc.environment)) {
    // `environment: [NAME]` takes the value from the shell or .env; unset there, it is left out.
    const value = v ?? ctx.project.env(k);
    if (value === undefined) {
      env.delete(k);
      continue;
    }
    env.set(k, value);
  }
  return [...env].map(([k, v]) => ({ name: k, value: v }));
}

const PULL: Record<string, string> = { always: 'Always', never: 'Never', missing: 'IfNotPresent', if_not_present: 'IfNotPresent', build: 'IfNotPresent', daily: 'Always', weekly: 'Always' };

export function container(ctx: TranslateContext, name: string, svc: ServiceSpec, image: string): JsonMap {
  const base = `services.${name}`;
  const c: JsonMap = { name: 'main', image };
  const command = argv(svc.entrypoint);
  const args = argv(svc.command);
  if (command) c.command = command;
  if (args) c.args = args;
  const env = environment(ctx, name, svc);
  if (env.length) c.env = env;
  if (svc.working_dir) c.workingDir = svc.working_dir;
  if (svc.user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(String(svc.user));
    if (!m) {
      refuse(ctx, `${base}.user`, `"${svc.user}": only a numeric UID[:GID] is supported (names are resolved inside the image by Docker, not by Skiff): use e.g. user: "1000:1000"`);
    } else {
      const sc: JsonMap = { runAsUser: Number(m[1]) };
      if (m[2] !== undefined) sc.runAsGroup = Number(m[2]);
      c.securityContext = sc;
    }
  }
  if (svc.tty !== undefined && truthy(svc.tty)) c.tty = true;
  if (svc.stdin_open !== undefined && truthy(svc.stdin_open)) c.stdin = true;
  if (svc.pull_policy !== undefined) {
    const p = PULL[svc.pull_policy];
    if (!p) refuse(ctx, `${base}.pull_policy`, `"${svc.pull_policy}" is not supported: use always, never, missing or build`);
    else {
      c.imagePullPolicy = p;
      if (svc.pull_policy === 'daily' || svc.pull_policy === 'weekly') warn(ctx, `${base}.pull_policy`, `"${svc.pull_policy}" pulls on every start (Always)`);
    }
  }
  const limits: JsonMap = {};
  const requests: JsonMap = {};
  if (svc.cpus !== undefined) {
    const q = cpuQuantity(ctx, `${base}.cpus`, svc.cpus);
    if (q) limits.cpu = q;
  }
  if (svc.mem_limit !== undefined) {
    const q = bytesQuantity(ctx, `${base}.mem_limit`, svc.mem_limit);
    if (q) limits.memory = q;
  }
  if (svc.mem_reservation !== undefined) {
    const q = bytesQuantity(ctx, `${base}.mem_reservation`, svc.mem_reservation);
    if (q) requests.memory = q;
  }
  if (Object.keys(limits).length || Object.keys(requests).length) {
    c.resources = { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) };
  }
  return c;
}
