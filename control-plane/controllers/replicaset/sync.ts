// One reconcile pass of a ReplicaSet (kubernetes replica_set.go syncReplicaSet): read it and
// its pods from the caches, claim pods, create or delete the difference to spec.replicas when
// the expectations of earlier passes are met, then publish status. Level-based: nothing here
// trusts the event that woke it.
import { isApiError } from '../../../proto/api/errors.js';
import { emptyMeta } from '../../../proto/api/kinds.js';
import type { ReplicaSet, ReplicaSetStatus } from '../../../proto/gen/skiff/v1/apps.js';
import { PodSpec, type Pod } from '../../../proto/gen/skiff/v1/core.js';
import type { Condition } from '../../../proto/gen/skiff/v1/meta.js';
import { canonicalEqual } from '../../storage/canonical.js';
import { selectorMatches } from '../../storage/labels.js';
import { copyObject, type ControllerClient } from '../client.js';
import type { EventRecorder } from '../events.js';
import type { Result } from '../runtime/controller.js';
import type { Expectations } from '../runtime/expectations.js';
import { claimCandidates } from '../runtime/indexes.js';
import type { Lister } from '../runtime/lister.js';
import { claimPods, rsControllerRef } from './claim.js';
import { isPodActive, isPodAvailable, isPodReady, podsToDelete } from './pods.js';

/** Kubernetes' BurstReplicas: at most this many creates or deletes per pass. */
export const BURST_REPLICAS = 500;

export interface ReplicaSetDeps {
  rsLister: Lister<ReplicaSet>;
  podLister: Lister<Pod>;
  client: ControllerClient;
  recorder: EventRecorder;
  expectations: Expectations;
  now: () => number;
  burstReplicas?: number;
}

export function specReplicas(rs: ReplicaSet): number {
  return rs.spec?.replicas ?? 1;
}

export function podKey(p: Pod): string {
  return `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
}

export async function syncReplicaSet(key: string, d: ReplicaSetDeps): Promise<Result> {
  const cached = d.rsLister.get(key);
  if (!cached) {
    d.expectations.delete(key);
    return {};
  }
  // Copy before changing: the cache's object is shared with every reader.
  const rs = copyObject('ReplicaSet', cached);
  const needsSync = d.expectations.satisfied(key);
  const ns = rs.metadata?.namespace ?? '';
  const active = claimCandidates(d.podLister, rs.metadata?.uid ?? '', ns).filter(isPodActive);
  const { claimed } = await claimPods(rs, active, d.client, async () => {
    const live = await d.client.get('ReplicaSet', ns, rs.metadata?.name ?? '');
    return live.metadata?.uid === rs.metadata?.uid && !live.metadata?.deletionTimestamp;
  });

  let manageErr: Error | undefined;
  if (needsSync && !rs.metadata?.deletionTimestamp) {
    try {
      await manageReplicas(key, claimed, rs, d);
    } catch (e) {
      manageErr = e instanceof Error ? e : new Error(String(e));
    }
  }

  const status = calculateStatus(rs, claimed, manageErr, d.now());
  const updated = await updateStatus(rs, status, d.client);
  const minReady = updated.spec?.minReadySeconds ?? 0;
  if (manageErr) throw manageErr;
  const st = updated.status;
  if (minReady > 0 && st && st.readyReplicas === specReplicas(updated) && st.availableReplicas !== specReplicas(updated)) {
    return { requeueAfterMs: minReady * 1000 };
  }
  return {};
}

/** Splits n into batches 1, 2, 4, ... and stops at the first batch with an error. */
export async function slowStartBatch(
  count: number,
  initial: number,
  fn: () => Promise<void>,
): Promise<{ successes: number; attempted: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  let attempted = 0;
  for (let size = Math.min(remaining, initial); size > 0; size = Math.min(2 * size, remaining)) {
    attempted += size;
    const results = await Promise.allSettled(Array.from({ length: size }, () => fn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, attempted, error: failed.reason };
    remaining -= size;
  }
  return { successes, attempted };
}

export function podFromTemplate(rs: ReplicaSet): Pod {
  const t = rs.spec?.template;
  const meta = emptyMeta();
  meta.generateName = `${rs.metadata?.name ?? ''}-`;
  meta.namespace = rs.metadata?.namespace ?? '';
  meta.labels = { ...(t?.metadata?.labels ?? {}) };
  meta.annotations = { ...(t?.metadata?.annotations ?? {}) };
  meta.finalizers = [...(t?.metadata?.finalizers ?? [])];
  meta.ownerReferences = [rsControllerRef(rs)];
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: t?.spec && PodSpec.fromPartial(t.spec), status: undefined };
}

async function manageReplicas(key: string, pods: Pod[], rs: ReplicaSet, d: ReplicaSetDeps): Promise<void> {
  const burst = d.burstReplicas ?? BURST_REPLICAS;
  const diff = pods.length - specReplicas(rs);
  const rsRef = { ...rs, kind: 'ReplicaSet', apiVersion: 'apps/v1' };
  if (diff < 0) {
    const want = Math.min(-diff, burst);
    // Expect all before issuing any: informer events for the first creates may arrive
    // before the last create returns.
    d.expectations.expectCreations(key, want);
    const { attempted, error } = await slowStartBatch(want, 1, async () => {
      try {
        const pod = await d.client.create('Pod', podFromTemplate(rs));
        d.recorder.record(rsRef, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name ?? ''}`);
      } catch (e) {
        // This create will never be observed: lower the expectation now.
        d.expectations.creationObserved(key);
        d.recorder.record(rsRef, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
        throw e;
      }
    });
    // Batches never started will never be observed either.
    const skipped = want - attempted;
    for (let i = 0; i < skipped; i++) d.expectations.creationObserved(key);
    if (error) throw error as Error;
    return;
  }
  if (diff > 0) {
    const victims = podsToDelete(pods, Math.min(diff, burst));
    d.expectations.expectDeletions(key, victims.map(podKey));
    const results = await Promise.allSettled(
      victims.map(async (p) => {
        try {
          await d.client.delete('Pod', p.metadata?.namespace ?? '', p.metadata?.name ?? '', {
            preconditions: { uid: p.metadata?.uid },
          });
          d.recorder.record(rsRef, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name ?? ''}`);
        } catch (e) {
          d.expectations.deletionObserved(key, podKey(p));
          if (isApiError(e, 'NotFound')) return;
          d.recorder.record(rsRef, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
          throw e;
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason as Error;
  }
}

export function calculateStatus(rs: ReplicaSet, pods: readonly Pod[], manageErr: Error | undefined, now: number): ReplicaSetStatus {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const fully = pods.filter((p) => selectorMatches({ matchLabels: templateLabels, matchExpressions: [] }, p.metadata?.labels));
  const conditions = (rs.status?.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
  if (manageErr) {
    const prev = rs.status?.conditions.find((c) => c.type === 'ReplicaFailure');
    const reason = specReplicas(rs) > pods.length ? 'FailedCreate' : 'FailedDelete';
    const cond: Condition = {
      type: 'ReplicaFailure',
      status: 'True',
      reason,
      message: manageErr.message,
      lastTransitionTime: prev?.status === 'True' ? prev.lastTransitionTime : new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      lastUpdateTime: '',
      lastProbeTime: '',
      lastHeartbeatTime: '',
    };
    conditions.push(cond);
  }
  return {
    replicas: pods.length,
    fullyLabeledReplicas: fully.length,
    readyReplicas: pods.filter(isPodReady).length,
    availableReplicas: pods.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata?.generation ?? 0,
    conditions,
  };
}

async function updateStatus(rs: ReplicaSet, status: ReplicaSetStatus, client: ControllerClient): Promise<ReplicaSet> {
  if (canonicalEqual(rs.status, status)) return rs;
  rs.status = status;
  try {
    return await client.updateStatus('ReplicaSet', rs);
  } catch (e) {
    if (!isApiError(e, 'Conflict')) throw e;
    // The cache lags behind: retry once on the live object (kubernetes does the same).
    const live = await client.get('ReplicaSet', rs.metadata?.namespace ?? '', rs.metadata?.name ?? '');
    if (live.metadata?.uid !== rs.metadata?.uid) return rs;
    live.status = { ...status, observedGeneration: rs.metadata?.generation ?? 0 };
    return client.updateStatus('ReplicaSet', live);
  }
}
