// Api.PortForward: one forwarded TCP connection. The client's first frame names the pod and
// port; the stream is then relayed frame by frame to the pod's node agent (NodeAgent.
// PortForward, which dials the pod) and back, with backpressure and half-close passed through,
// as the Kubernetes API server relays pods/portforward to the kubelet.
import { credentials, Metadata, type ClientDuplexStream, type ServerDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { ERROR_TRAILER, errors, fromGrpcError } from '../../proto/api/errors.js';
import { NodeAgentClient } from '../../proto/gen/skiff/v1/agent.js';
import type { PortForwardFrame } from '../../proto/gen/skiff/v1/api.js';
import type { ApiContext } from './context.js';
import { DEFAULT_NAMESPACE } from './defaults.js';
import { agentAddress } from './logs.js';

type Call = ServerDuplexStream<PortForwardFrame, PortForwardFrame>;
type Upstream = ClientDuplexStream<PortForwardFrame, PortForwardFrame>;

function firstFrame(call: Call): Promise<PortForwardFrame | undefined> {
  return new Promise((resolve, reject) => {
    const onData = (f: PortForwardFrame): void => {
      cleanup();
      call.pause();
      resolve(f);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      call.off('data', onData);
      call.off('end', onEnd);
      call.off('error', onError);
    };
    call.on('data', onData);
    call.on('end', onEnd);
    call.on('error', onError);
  });
}

/** Relays one connection; resolves when both directions are done. */
export async function proxyPortForward(ctx: ApiContext, call: Call): Promise<void> {
  const first = await firstFrame(call);
  if (!first) return;
  const ns = first.namespace || DEFAULT_NAMESPACE;
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
  const client = new NodeAgentClient(target, credentials.createInsecure());
  try {
    const upstream: Upstream = client.portForward(new Metadata());
    await new Promise<void>((resolve, reject) => {
      call.on('cancelled', () => upstream.cancel());
      upstream.write({ ...first, namespace: ns });
      call.on('data', (f: PortForwardFrame) => {
        if (!upstream.write(f)) {
          call.pause();
          upstream.once('drain', () => call.resume());
        }
      });
      call.on('end', () => upstream.end());
      upstream.on('data', (f: PortForwardFrame) => {
        if (!call.write(f)) {
          upstream.pause();
          call.once('drain', () => upstream.resume());
        }
      });
      // The pod side is done: so is the call (the agent ends only once the pod closed).
      upstream.on('end', () => resolve());
      upstream.on('error', (e) => {
        const err = fromGrpcError(e);
        // Without the trailer the agent did not answer at all (an answer explains itself).
        const fromAgent = (e as Partial<ServiceError>).metadata?.get(ERROR_TRAILER).length;
        if (err.code === 'Unavailable' && !fromAgent) {
          reject(errors.unavailable(`cannot reach the node agent of node "${nodeName}" at ${target}: ${err.message}`));
        } else reject(err);
      });
      call.resume();
    });
  } finally {
    client.close();
  }
}
