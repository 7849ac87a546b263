// skiff describe TYPE NAME: the object, a summary, and its events (found by involvedObject.uid).
import { unwrap, unwrapAs } from '../../proto/api/kinds.js';
import type { Event, Pod } from '../../proto/gen/skiff/v1/core.js';
import type { Ctx } from '../context.js';
import { describeObject } from '../render/describe.js';
import { ownedReplicaSets, isControlledBy } from '../render/rollout.js';
import { namespaceFor, parseRef } from '../resources.js';
import type { Deployment, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';

export async function describeCommand(ctx: Ctx, args: readonly string[]): Promise<number> {
  const names = parseRef(args);
  const api = ctx.api();
  const namespace = namespaceFor(names.info, ctx.settings.namespace);
  const { info, value } = unwrap(await api.get({ kind: names.info.kind, namespace, name: names.name }));
  const uid = value.metadata?.uid ?? '';
  // Events of cluster-scoped objects (nodes) live in the default namespace, as in Kubernetes.
  const eventNs = info.namespaced ? namespace : '';
  const events = uid
    ? (await api.list({ kind: 'Event', namespace: eventNs, fieldSelector: `involvedObject.uid=${uid}` })).items.map((r): Event => unwrapAs('Event', r))
    : [];
  let replicaSets: ReplicaSet[] | undefined;
  let pods;
  let endpointSlices;
  let claimUsers: Pod[] | undefined;
  if (info.kind === 'Deployment') {
    const list = await api.list({ kind: 'ReplicaSet', namespace });
    replicaSets = ownedReplicaSets(value as Deployment, list.items.map((r) => unwrapAs('ReplicaSet', r)));
  } else if (info.kind === 'Service') {
    const list = await api.list({ kind: 'EndpointSlice', namespace, labelSelector: `kubernetes.io/service-name=${names.name}` });
    endpointSlices = list.items.map((r) => unwrapAs('EndpointSlice', r));
  } else if (info.kind === 'PersistentVolumeClaim') {
    const list = await api.list({ kind: 'Pod', namespace });
    claimUsers = list.items.map((r) => unwrapAs('Pod', r)).filter((p) => p.spec?.volumes.some((v) => v.persistentVolumeClaim?.claimName === names.name));
  } else if (info.kind === 'ReplicaSet') {
    const list = await api.list({ kind: 'Pod', namespace });
    pods = list.items.map((r) => unwrapAs('Pod', r)).filter((p) => isControlledBy(p, uid));
  }
  ctx.stdout.write(describeObject(info, value, { events, replicaSets, pods, endpointSlices, claimUsers, now: ctx.now() }));
  return 0;
}
