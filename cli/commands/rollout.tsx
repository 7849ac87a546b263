// skiff rollout status|history|undo|pause|resume|restart deploy/NAME, with kubectl's meanings.
// `status` watches live and, unlike kubectl, fails early when the new ReplicaSet crash-loops.
import { render } from 'ink';
import { ApiError, errors } from '../../proto/api/errors.js';
import { unwrapAs } from '../../proto/api/kinds.js';
import { toManifest, type JsonObject } from '../../proto/api/manifest.js';
import type { Deployment, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';
import { line, type Ctx } from '../context.js';
import { parseDuration } from '../duration.js';
import { mergePatchDiff } from '../merge-patch.js';
import { toYaml } from '../render/output.js';
import {
  CHANGE_CAUSE_ANNOTATION, evaluateRollout, ownedReplicaSets, POD_TEMPLATE_HASH, revisionOf,
} from '../render/rollout.js';
import { formatTable } from '../render/table.js';
import { KINDS } from '../../proto/api/kinds.js';
import { parseRef, qualifiedName } from '../resources.js';
import { subscribeRollout } from '../rollout-feed.js';
import { RolloutStatus, type RolloutResult } from '../views/RolloutStatus.js';

const DEPLOY = KINDS.Deployment;

function deploymentName(args: readonly string[]): string {
  const { info, name } = parseRef(args, DEPLOY);
  if (info.kind !== 'Deployment') throw errors.badRequest(`rollout works on deployments, not ${info.plural}`);
  return name;
}

async function getDeployment(ctx: Ctx, name: string): Promise<Deployment> {
  return unwrapAs('Deployment', await ctx.api().get({ kind: 'Deployment', namespace: ctx.settings.namespace, name }));
}

async function replicaSetsOf(ctx: Ctx, d: Deployment): Promise<ReplicaSet[]> {
  const list = await ctx.api().list({ kind: 'ReplicaSet', namespace: ctx.settings.namespace });
  return ownedReplicaSets(d, list.items.map((r) => unwrapAs('ReplicaSet', r)));
}

const ref = (name: string): string => `${qualifiedName(DEPLOY)}/${name}`;

async function patchDeployment(ctx: Ctx, name: string, patch: JsonObject): Promise<void> {
  await ctx.api().patch({
    kind: 'Deployment', namespace: ctx.settings.namespace, name, patchType: 'merge', patch: JSON.stringify(patch),
  });
}

/** The pod template of a ReplicaSet as the Deployment holds it (without pod-template-hash). */
export function templateOfReplicaSet(rs: ReplicaSet): JsonObject {
  const spec = toManifest(KINDS.ReplicaSet, rs).spec as JsonObject | undefined;
  const template = structuredClone((spec?.template ?? {}) as JsonObject);
  const meta = template.metadata as JsonObject | undefined;
  const labels = meta?.labels as JsonObject | undefined;
  if (meta && labels) {
    delete labels[POD_TEMPLATE_HASH];
    if (Object.keys(labels).length === 0) delete meta.labels;
  }
  return template;
}

export async function rolloutHistory(ctx: Ctx, args: readonly string[], revision: number): Promise<number> {
  const name = deploymentName(args);
  const d = await getDeployment(ctx, name);
  const owned = (await replicaSetsOf(ctx, d)).filter((rs) => revisionOf(rs) > 0).sort((a, b) => revisionOf(a) - revisionOf(b));
  if (revision > 0) {
    const rs = owned.find((r) => revisionOf(r) === revision);
    if (!rs) throw new ApiError('NotFound', `unable to find the specified revision ${revision} of ${ref(name)}`);
    line(ctx.stdout, `${ref(name)} with revision #${revision}`);
    line(ctx.stdout, 'Pod Template:');
    ctx.stdout.write(toYaml(templateOfReplicaSet(rs)).replace(/^/gm, '  '));
    return 0;
  }
  line(ctx.stdout, ref(name));
  const rows = owned.map((rs) => [String(revisionOf(rs)), rs.metadata?.annotations[CHANGE_CAUSE_ANNOTATION] || '<none>']);
  line(ctx.stdout, formatTable({ headers: ['REVISION', 'CHANGE-CAUSE'], rows }));
  return 0;
}

export async function rolloutUndo(ctx: Ctx, args: readonly string[], toRevision: number): Promise<number> {
  const name = deploymentName(args);
  const d = await getDeployment(ctx, name);
  const owned = await replicaSetsOf(ctx, d);
  const current = revisionOf(d);
  let target: ReplicaSet | undefined;
  if (toRevision > 0) {
    target = owned.find((rs) => revisionOf(rs) === toRevision);
    if (!target) throw new ApiError('NotFound', `unable to find the specified revision ${toRevision} in the history of ${ref(name)}`);
  } else {
    // kubectl's "previous revision": the highest one below the current.
    target = owned.filter((rs) => revisionOf(rs) > 0 && revisionOf(rs) !== current).sort((a, b) => revisionOf(b) - revisionOf(a))[0];
    if (!target) throw new ApiError('NotFound', `no previous revision of ${ref(name)} to roll back to`);
  }
  const rev = revisionOf(target);
  const currentTemplate = (toManifest(DEPLOY, d).spec as JsonObject | undefined)?.template ?? {};
  const diff = mergePatchDiff(currentTemplate, templateOfReplicaSet(target));
  if (diff === undefined) {
    line(ctx.stdout, `${ref(name)} skipped rollback (current template already matches revision ${rev})`);
    return 0;
  }
  await patchDeployment(ctx, name, { spec: { template: diff } });
  line(ctx.stdout, `${ref(name)} rolled back`);
  return 0;
}

export async function rolloutPause(ctx: Ctx, args: readonly string[], paused: boolean): Promise<number> {
  const name = deploymentName(args);
  const d = await getDeployment(ctx, name);
  if (!!d.spec?.paused === paused) {
    throw errors.badRequest(`${qualifiedName(DEPLOY)} "${name}" is ${paused ? 'already paused' : 'not paused'}`);
  }
  await patchDeployment(ctx, name, { spec: { paused } });
  line(ctx.stdout, `${ref(name)} ${paused ? 'paused' : 'resumed'}`);
  return 0;
}

export async function rolloutRestart(ctx: Ctx, args: readonly string[]): Promise<number> {
  const name = deploymentName(args);
  const d = await getDeployment(ctx, name);
  if (d.spec?.paused) throw errors.badRequest(`can't restart paused ${ref(name)} (run "skiff rollout resume ${ref(name)}" first)`);
  const at = new Date(ctx.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await patchDeployment(ctx, name, {
    spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
  });
  line(ctx.stdout, `${ref(name)} restarted`);
  return 0;
}

export async function rolloutStatus(ctx: Ctx, args: readonly string[], timeout: string | undefined): Promise<number> {
  const name = deploymentName(args);
  const timeoutMs = timeout ? parseDuration(timeout, '--timeout') : 0;
  const d = await getDeployment(ctx, name);
  const api = ctx.api();
  const ns = ctx.settings.namespace;
  if (ctx.interactive) {
    let result: RolloutResult = { code: 1, message: '' };
    const app = render(
      <RolloutStatus name={name} timeoutMs={timeoutMs}
        subscribe={(onSnap, onEnd) => subscribeRollout(api, ns, d, onSnap, onEnd)}
        onDone={(r) => (result = r)} />,
    );
    await app.waitUntilExit();
    return result.code;
  }
  return new Promise((resolve) => {
    let last = '';
    let finished = false;
    let stop: () => void = () => undefined;
    const finish = (code: number, message: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      stop();
      line(code === 0 ? ctx.stdout : ctx.stderr, message);
      resolve(code);
    };
    const timer = timeoutMs > 0
      ? setTimeout(() => finish(1, `error: timed out waiting for deployment "${name}" to roll out`), timeoutMs)
      : undefined;
    stop = subscribeRollout(api, ns, d, (snap) => {
      if (finished) return;
      const s = evaluateRollout(name, snap);
      if (s.phase === 'complete') finish(0, s.message);
      else if (s.phase === 'failed') finish(1, `error: ${s.message}`);
      else if (s.message !== last) {
        last = s.message;
        line(ctx.stdout, s.message);
      }
    }, (err) => finish(1, err ? `error (${err.code}): ${err.describe()}` : 'error: the watch ended before the rollout finished'));
  });
}
