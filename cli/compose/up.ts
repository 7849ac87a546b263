// skiff compose up [-d] [--build] [--wait] [--remove-orphans] [SERVICE...]: applies the project
// in dependency order through Skiff's three-way apply (so an unchanged object stays
// `unchanged` and a changed service rolls), waiting for each depends_on condition before the
// services that need it. Without -d: a live view until every service is up, then the logs of
// every service until Ctrl-C, which stops following but leaves the services running.
import { ApiError } from '../../proto/api/errors.js';
import { KINDS, unwrap, type Kind } from '../../proto/api/kinds.js';
import { line, type Ctx } from '../context.js';
import { displayRef } from '../resources.js';
import { buildImage, registryHasImage } from './build.js';
import { followLogs } from './logs.js';
import { prepare, registryOf, type ComposeGlobals } from './project.js';
import { readProject, serviceNames, snapshotOf, type ProjectObjects } from './snapshot.js';
import { conditionMet, serviceState, settled } from './status.js';
import type { Manifest, ServicePlan, Translation } from './translate/index.js';
import { InkProgress, PlainProgress, type ProgressSink, type Row } from './UpView.js';

export interface UpOptions {
  detach: boolean;
  build: boolean;
  wait: boolean;
  removeOrphans: boolean;
  services: string[];
  /** How long to wait for a depends_on condition or --wait. */
  timeoutMs: number;
  signal?: AbortSignal;
}

const POLL_MS = 500;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The named services and everything they depend on, in dependency order. */
export function selectServices(t: Translation, names: readonly string[]): ServicePlan[] {
  if (!names.length) return t.services;
  const byName = new Map(t.services.map((s) => [s.name, s]));
  const want = new Set<string>();
  const add = (n: string): void => {
    const s = byName.get(n);
    if (!s) throw new ApiError('BadRequest', `no such service: ${n} (the project has ${[...byName.keys()].join(', ')})`);
    if (want.has(n)) return;
    want.add(n);
    for (const d of s.dependsOn) if (byName.has(d.service)) add(d.service);
  };
  names.forEach(add);
  return t.services.filter((s) => want.has(s.name));
}

/** Manifests whose kind this Skiff does not have, named by their compose key. */
export function missingKinds(manifests: readonly Manifest[]): string[] {
  const out: string[] = [];
  for (const m of manifests) {
    const kind = typeof m.json.kind === 'string' ? m.json.kind : '';
    if (!(kind in KINDS)) out.push(`${m.key}: needs the ${kind} kind, which this Skiff cluster does not have yet; remove ${m.key} (and its uses) or run a Skiff with ${kind} support`);
  }
  return out;
}

async function apply(ctx: Ctx, manifests: Manifest[], source: string): Promise<void> {
  if (!manifests.length) return;
  const res = await ctx.api().apply({
    documents: manifests.map((m, i) => ({ manifest: JSON.stringify(m.json), source: `${source} ${m.key}#${i + 1}` })),
    dryRun: false,
    fieldManager: 'skiff-compose',
  });
  for (const r of res.results) {
    const { info, value } = unwrap(r.object);
    line(ctx.stdout, `${displayRef(info, value)} ${r.action}`);
  }
}

function rows(plans: readonly ServicePlan[], objs: ProjectObjects, notes: Map<string, string>): Row[] {
  return plans.map((p) => {
    const st = serviceState(snapshotOf(objs, p.name, p.kind));
    const bad = st.failed || /CrashLoopBackOff|ErrImagePull|ImagePullBackOff|Error/.test(st.text);
    return { service: p.name, replicas: `${st.ready}/${st.desired}`, text: st.text, done: settled(snapshotOf(objs, p.name, p.kind)), bad, note: notes.get(p.name) };
  });
}

export async function composeUp(ctx: Ctx, g: ComposeGlobals, opts: UpOptions): Promise<number> {
  const { project, translation } = prepare(g, ctx.stderr);
  const plans = selectServices(translation, opts.services);
  const ns = project.namespace;
  const missing = missingKinds([translation.namespace, ...translation.shared, ...plans.flatMap((p) => p.manifests)]);
  if (missing.length) {
    throw new ApiError('Invalid', `${project.file}: this cluster cannot run ${missing.length === 1 ? 'one key' : `${missing.length} keys`} of the file; nothing was applied`,
      missing.map((m) => ({ field: m.split(':')[0]!, message: m.slice(m.indexOf(':') + 2), source: project.file })));
  }
  for (const p of plans) {
    if (!p.build) continue;
    if (!opts.build && (await registryHasImage(p.image))) continue;
    await buildImage({ service: p.name, dir: project.dir, ...p.build, image: p.image, registry: registryOf(g.env) }, (s) => line(ctx.stderr, s));
  }

  const interactive = ctx.interactive && !opts.detach;
  const progress: ProgressSink = interactive ? new InkProgress(project.name) : new PlainProgress(ctx.stderr);
  const notes = new Map<string, string>();
  const deadline = (): number => ctx.now() + opts.timeoutMs;
  const poll = async (what: string, until: number, done: (objs: ProjectObjects) => boolean): Promise<ProjectObjects> => {
    for (;;) {
      const objs = await readProject(ctx.api(), ns, project.name);
      const now = rows(plans, objs, notes);
      if (!opts.detach) progress.show(now);
      if (done(objs)) return objs;
      // A service whose pods crash-loop or cannot pull their image will not come up by itself:
      // say so now instead of at the timeout (as `docker compose up --wait` stops on an exit).
      const stuck = now.find((r) => r.bad && /CrashLoopBackOff|ImagePullBackOff|ErrImagePull|failed/.test(r.text));
      if (stuck) throw new ApiError('BadRequest', `service ${stuck.service} is ${stuck.text} while waiting for ${what} (skiff compose logs ${stuck.service}; skiff -n ${ns} describe pod ...)`);
      if (opts.signal?.aborted) throw new ApiError('BadRequest', `interrupted while waiting for ${what}`);
      if (ctx.now() > until) throw new ApiError('Timeout', `gave up waiting for ${what} after ${Math.round(opts.timeoutMs / 1000)}s (see skiff compose ps and skiff compose logs)`);
      await sleep(POLL_MS);
    }
  };

  try {
    await apply(ctx, [translation.namespace, ...translation.shared], project.file);
    for (const p of plans) {
      for (const d of p.dependsOn) {
        const dep = plans.find((x) => x.name === d.service);
        if (!dep) continue;
        const word = d.condition === 'service_healthy' ? 'healthy' : d.condition === 'service_completed_successfully' ? 'completed successfully' : 'started';
        notes.set(p.name, `waiting for ${d.service} to be ${word}`);
        if (opts.detach) line(ctx.stderr, `${p.name}: waiting for ${d.service} to be ${word}`);
        await poll(`${d.service} to be ${word}`, deadline(), (objs) => conditionMet(d.condition, snapshotOf(objs, dep.name, dep.kind)));
      }
      notes.delete(p.name);
      await apply(ctx, p.manifests, project.file);
    }
    const objs = await readProject(ctx.api(), ns, project.name);
    const orphans = serviceNames(objs).filter((n) => !translation.services.some((s) => s.name === n));
    if (orphans.length) {
      if (opts.removeOrphans) {
        const { removeServices } = await import('./down.js');
        await removeServices(ctx, ns, project.name, orphans);
      } else {
        line(ctx.stderr, `warning: found services not in ${project.file}: ${orphans.join(', ')} (remove them with --remove-orphans)`);
      }
    }
    if (opts.detach) {
      if (opts.wait) await poll('every service to be up', deadline(), (o) => plans.every((p) => settled(snapshotOf(o, p.name, p.kind))));
      return 0;
    }
    await poll('every service to be up', deadline(), (o) => plans.every((p) => settled(snapshotOf(o, p.name, p.kind))));
  } finally {
    await progress.finish();
  }
  line(ctx.stdout, `Following the logs of ${plans.map((p) => p.name).join(', ')}; Ctrl-C stops following (the services keep running: skiff compose down stops them)`);
  await followLogs(ctx, ns, project.name, plans.map((p) => p.name), { follow: true, tail: 20, signal: opts.signal });
  line(ctx.stdout, 'Stopped following the logs; the services keep running (skiff compose ps, skiff compose down).');
  return 0;
}

/** For `ps` and the kinds list: the kinds compose objects can be (those this cluster has). */
export const COMPOSE_KINDS: Kind[] = ['Deployment', 'Pod', 'Service'];
