// Warning events the agent posts about a pod (kubectl describe shows them), named and shaped
// as the kubelet's: `<pod>.<hex time>` in the pod's namespace, source component "kubelet".
import { emptyMeta } from '../../proto/api/kinds.js';
import type { Event, Pod } from '../../proto/gen/skiff/v1/core.js';
import type { AgentApi } from '../api-client.js';

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function postPodWarning(api: AgentApi, pod: Pod, node: string, reason: string, message: string, nowMs: number): Promise<void> {
  const m = pod.metadata!;
  const at = rfc3339(nowMs);
  const ev: Event = {
    apiVersion: 'v1', kind: 'Event',
    metadata: { ...emptyMeta(), name: `${m.name}.${(nowMs * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`, namespace: m.namespace },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: m.namespace, name: m.name, uid: m.uid, resourceVersion: m.resourceVersion, fieldPath: '' },
    reason, message, source: { component: 'kubelet', host: node }, firstTimestamp: at, lastTimestamp: at, count: 1, type: 'Warning',
    reportingComponent: 'kubelet', reportingInstance: node,
  };
  await api.create('Event', ev);
}
