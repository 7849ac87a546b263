// Api.PortForward: one forwarded TCP connection. The client's first frame names the pod and
// port; the stream is then relayed frame by frame to the pod's node agent (NodeAgent.
// PortForward, which dials the pod) and back, with backpressure and half-close passed through,
// as the Kubernetes API server relays pods/portforward to the kubelet.
import { Metadata, type ServerDuplexStream } from '@grpc/grpc-js';
import { errors } from '../../proto/api/errors.js';
import type { PortForwardFrame } from '../../proto/gen/skiff/v1/api.js';
import type { ApiContext } from './context.js';
import { DEFAULT_NAMESPACE } from './defaults.js';
import { agentAddress } from './logs.js';
import { firstFrame, relay } from './relay.js';
import { agentClient } from './agent-client.js';

type Call = ServerDuplexStream<PortForwardFrame, PortForwardFrame>;

/** Relays one connection; resolves when both directions are done. */
export async function proxyPortForward(ctx: ApiContext, call: Call, authorize: (namespace: string, pod: string) => Promise<void>): Promise<void> {
  const first = await firstFrame<PortForwardFrame>(call);
  if (!first) return;
  const ns = first.namespace || DEFAULT_NAMESPACE;
  // Only the first frame says which pod: the caller is checked before anything is read or relayed.
  await authorize(ns, first.pod);
  if (!first.pod) throw errors.badRequest('port-forward: the first frame must name the pod');
  if (first.port < 1 || first.port > 65535) {
    throw errors.invalid('PortForward', first.pod, [{ field: 'port', message: `must be 1-65535, not ${first.port}`, source: '' }]);
  }
  const pod = await ctx.store.get('Pod', ns, first.pod);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod "${ns}/${first.pod}" is not scheduled to a node yet; port-forward needs a running pod`);
  if (pod.status?.phase !== 'Running') {
    throw errors.badRequest(`unable to forward port because pod is not running. Current status=${pod.status?.phase || 'Pending'}`);
  }
  const target = await agentAddress(ctx, nodeName);
  const client = agentClient(target, ctx.kubelet);
  try {
    await relay(call, client.portForward(new Metadata()), { ...first, namespace: ns }, { nodeName, target });
  } finally {
    client.close();
  }
}
