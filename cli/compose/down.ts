// skiff compose down [-v]: deletes the project's Deployments, one-shot Pods, Services, Secrets
// and ConfigMaps (everything labelled with the project), waits for its pods to be gone, and
// keeps its PersistentVolumeClaims, like `docker compose down` keeps named volumes; -v deletes
// them too. The namespace goes when nothing is kept in it (no claim left); with claims kept it
// stays, so the next `up` finds its data.
import { isApiError } from '../../proto/api/errors.js';
import { KINDS, unwrap, type Kind } from '../../proto/api/kinds.js';
import { line, type Ctx } from '../context.js';
import { prepareName, type ComposeGlobals } from './project-name.js';
import { PROJECT_LABEL, SERVICE_LABEL } from './translate/names.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kinds `down` removes, in this order (workloads first so pods stop before their Services go). */
const REMOVED = ['Deployment', 'Pod', 'Service', 'Secret', 'ConfigMap'];
const VOLUMES = 'PersistentVolumeClaim';

const known = (k: string): k is Kind => k in KINDS;

async function listNames(ctx: Ctx, kind: Kind, namespace: string, selector: string): Promise<{ name: string; owned: boolean }[]> {
  try {
    const list = await ctx.api().list({ kind, namespace, labelSelector: selector });
    return list.items.map((r) => {
      const m = unwrap(r).value.metadata;
      return { name: m?.name ?? '', owned: (m?.ownerReferences.length ?? 0) > 0 };
    });
  } catch (e) {
    if (isApiError(e, 'NotFound')) return [];
    throw e;
  }
}

async function removeKinds(ctx: Ctx, kinds: readonly string[], namespace: string, selector: string): Promise<void> {
  for (const kind of kinds) {
    if (!known(kind)) continue;
    for (const o of await listNames(ctx, kind, namespace, selector)) {
      if (o.owned) continue; // its owner's deletion takes it (ReplicaSet pods)
      try {
        await ctx.api().delete({ kind, namespace, name: o.name, propagationPolicy: 'Background' });
        line(ctx.stdout, `${KINDS[kind].singular}/${o.name} deleted`);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
    }
  }
}

async function waitPodsGone(ctx: Ctx, namespace: string, selector: string, timeoutMs: number): Promise<void> {
  const until = ctx.now() + timeoutMs;
  for (;;) {
    const pods = await ctx.api().list({ kind: 'Pod', namespace, labelSelector: selector });
    if (pods.items.length === 0) return;
    if (ctx.now() > until) {
      line(ctx.stderr, `warning: ${pods.items.length} pod(s) still stopping after ${timeoutMs / 1000}s`);
      return;
    }
    await sleep(500);
  }
}

/** Deletes the objects of some services (orphans) and waits for their pods. */
export async function removeServices(ctx: Ctx, namespace: string, project: string, services: readonly string[]): Promise<void> {
  for (const s of services) {
    const selector = `${PROJECT_LABEL}=${project},${SERVICE_LABEL}=${s}`;
    await removeKinds(ctx, REMOVED, namespace, selector);
    await waitPodsGone(ctx, namespace, selector, 120_000);
  }
}

export async function composeDown(ctx: Ctx, g: ComposeGlobals, opts: { volumes: boolean; timeoutMs: number }): Promise<number> {
  const { name, namespace } = prepareName(g);
  const selector = `${PROJECT_LABEL}=${name}`;
  await removeKinds(ctx, REMOVED, namespace, selector);
  if (opts.volumes) await removeKinds(ctx, [VOLUMES], namespace, selector);
  await waitPodsGone(ctx, namespace, selector, opts.timeoutMs);
  const kept = known(VOLUMES) ? await listNames(ctx, VOLUMES, namespace, selector) : [];
  if (kept.length) {
    line(ctx.stdout, `namespace/${namespace} kept: it holds the volume claims ${kept.map((k) => k.name).join(', ')} (skiff compose down -v removes them)`);
    return 0;
  }
  try {
    await ctx.api().delete({ kind: 'Namespace', name: namespace });
    line(ctx.stdout, `namespace/${namespace} deleted`);
  } catch (e) {
    if (!isApiError(e, 'NotFound')) throw e;
  }
  return 0;
}
