// Feeds `rollout status` with snapshots of one Deployment, its ReplicaSets and its pods, kept
// current by three Api.Watch streams.
import type { ApiError } from '../proto/api/errors.js';
import { objectKey, unwrap } from '../proto/api/kinds.js';
import type { Deployment, ReplicaSet } from '../proto/gen/skiff/v1/apps.js';
import type { WatchEvent } from '../proto/gen/skiff/v1/api.js';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import type { LabelSelector } from '../proto/gen/skiff/v1/meta.js';
import { consume, type Api } from './client.js';
import type { RolloutSnapshot } from './render/rollout.js';

/** The label selector in the text form List and Watch take. */
export function selectorString(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const parts = Object.entries(sel.matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const r of sel.matchExpressions) {
    if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
    else parts.push(`${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${r.values.join(',')})`);
  }
  return parts.join(',');
}

function apply<T>(map: Map<string, T>, ev: WatchEvent): void {
  if (!ev.object || ev.type === 'BOOKMARK') return;
  const { value } = unwrap(ev.object);
  const key = objectKey(value);
  if (ev.type === 'DELETED') map.delete(key);
  else map.set(key, value as T);
}

export function subscribeRollout(
  api: Api,
  namespace: string,
  initial: Deployment,
  onSnapshot: (s: RolloutSnapshot) => void,
  onEnd: (err: ApiError | undefined) => void,
): () => void {
  const name = initial.metadata?.name ?? '';
  const selector = selectorString(initial.spec?.selector);
  // Seeded with the Deployment just read, so events of the other streams arriving first are
  // judged against it rather than against "no deployment".
  const deployments = new Map<string, Deployment>([[objectKey(initial), initial]]);
  const replicaSets = new Map<string, ReplicaSet>();
  const pods = new Map<string, Pod>();
  let stopped = false;
  const emit = (): void => {
    if (stopped) return;
    onSnapshot({
      deployment: [...deployments.values()][0],
      replicaSets: [...replicaSets.values()],
      pods: [...pods.values()],
    });
  };
  const streams = [
    { s: api.watch({ kind: 'Deployment', namespace, fieldSelector: `metadata.name=${name}` }), m: deployments as Map<string, unknown> },
    { s: api.watch({ kind: 'ReplicaSet', namespace }), m: replicaSets as Map<string, unknown> },
    { s: api.watch({ kind: 'Pod', namespace, labelSelector: selector }), m: pods as Map<string, unknown> },
  ];
  const stop = (): void => {
    stopped = true;
    for (const { s } of streams) s.cancel();
  };
  for (const { s, m } of streams) {
    consume(api, s, (ev) => {
      apply(m, ev);
      emit();
    }).then(
      () => {
        if (!stopped) {
          stop();
          onEnd(undefined);
        }
      },
      (e: unknown) => {
        if (!stopped) {
          stop();
          onEnd(api.error(e));
        }
      },
    );
  }
  return stop;
}
