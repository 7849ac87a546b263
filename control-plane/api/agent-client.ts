// The control plane's connection to a node agent's NodeAgent service: mutual TLS, verifying the
// agent against --kubelet-certificate-authority and presenting --kubelet-client-certificate
// (CN kube-apiserver-kubelet-client), the one caller an agent accepts.
import { NodeAgentClient } from '../../proto/gen/skiff/v1/agent.js';
import { grpcCredentials, type ClientTls } from '../../proto/api/tls-client.js';

export function agentClient(target: string, kubelet: ClientTls): NodeAgentClient {
  return new NodeAgentClient(target, grpcCredentials(target, kubelet));
}
