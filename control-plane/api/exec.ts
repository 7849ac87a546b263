// Api.Exec and Api.ExecStream: find the pod's node and forward the command to its agent's NodeAgent.Exec (CRI
// ExecSync there), as the Kubernetes API server forwards pods/exec to the kubelet. The
// command's own exit code comes back in the response; only failing to run it is an error.
import { Metadata, type ServerDuplexStream } from '@grpc/grpc-js';
import { errors, fromGrpcError } from '../../proto/api/errors.js';
import type { ExecRequest, ExecResponse, ExecStreamFrame } from '../../proto/gen/skiff/v1/api.js';
import type { ApiContext } from './context.js';
import { DEFAULT_NAMESPACE } from './defaults.js';
import { agentAddress, podContainer } from './logs.js';
import { firstFrame, relay } from './relay.js';
import { agentClient } from './agent-client.js';

/** What the agent gives a command without a timeout (its DEFAULT_EXEC_TIMEOUT_SECONDS). */
const AGENT_DEFAULT_TIMEOUT_SECONDS = 300;
/** The agent call may outlive the command by this much (runtime start-up, output transfer). */
const CALL_SLACK_MS = 30_000;

/** Checks the request and finds the container and the agent to ask. */
async function execTarget(ctx: ApiContext, req: ExecRequest): Promise<{ ns: string; container: string; nodeName: string; target: string }> {
  const ns = req.namespace || DEFAULT_NAMESPACE;
  if (!req.pod) throw errors.badRequest('exec: pod is required');
  if (req.command.length === 0) throw errors.invalid('ExecRequest', req.pod, [{ field: 'command', message: 'required: the command to run', source: '' }]);
  if (req.timeoutSeconds < 0) throw errors.invalid('ExecRequest', req.pod, [{ field: 'timeoutSeconds', message: 'must be >= 0', source: '' }]);
  const pod = await ctx.store.get('Pod', ns, req.pod);
  const container = podContainer(pod, req.container);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod "${ns}/${req.pod}" is not scheduled to a node yet; exec needs a running container`);
  const phase = pod.status?.phase ?? '';
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw errors.badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  return { ns, container, nodeName, target: await agentAddress(ctx, nodeName) };
}

/** Api.ExecStream: an interactive exec, relayed frame by frame to the agent's ExecStream. */
export async function proxyExecStream(
  ctx: ApiContext,
  call: ServerDuplexStream<ExecStreamFrame, ExecStreamFrame>,
  authorize: (namespace: string, pod: string) => Promise<void>,
): Promise<void> {
  const first = await firstFrame<ExecStreamFrame>(call);
  if (!first) return;
  if (!first.start) throw errors.badRequest('exec: the first frame must carry start');
  // Only the first frame says which pod: the caller is checked before anything is read or relayed.
  await authorize(first.start.namespace || DEFAULT_NAMESPACE, first.start.pod);
  const { ns, container, nodeName, target } = await execTarget(ctx, first.start);
  const client = agentClient(target, ctx.kubelet);
  try {
    await relay(call, client.execStream(new Metadata()), { ...first, start: { ...first.start, namespace: ns, container } }, { nodeName, target });
  } finally {
    client.close();
  }
}

export async function proxyExec(ctx: ApiContext, req: ExecRequest): Promise<ExecResponse> {
  const { ns, container, nodeName, target } = await execTarget(ctx, req);
  const client = agentClient(target, ctx.kubelet);
  const deadline = Date.now() + (req.timeoutSeconds || AGENT_DEFAULT_TIMEOUT_SECONDS) * 1000 + CALL_SLACK_MS;
  try {
    return await new Promise<ExecResponse>((resolve, reject) => {
      client.exec({ ...req, namespace: ns, container }, new Metadata(), { deadline }, (e, res) => {
        if (!e) {
          resolve(res);
          return;
        }
        const err = fromGrpcError(e);
        if (err.code === 'Unavailable') {
          reject(errors.unavailable(`cannot reach the node agent of node "${nodeName}" at ${target}: ${err.message}`));
        } else reject(err);
      });
    });
  } finally {
    client.close();
  }
}
