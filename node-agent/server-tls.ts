// The NodeAgent service's TLS: the agent's serving certificate, and every caller must present a
// client certificate of the cluster CA (--client-ca-file) whose user is the control plane's
// (CN kube-apiserver-kubelet-client, the control plane's --kubelet-client-certificate). A node
// certificate of the same CA, or anything else, is refused: only the control plane drives the
// agent (logs, exec, port-forward, stats).
import { ServerCredentials, status, type ServerErrorResponse } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { KUBELET_CLIENT_USER } from '../proto/api/pki/index.js';

/** PEM texts. */
export interface AgentServingTls {
  cert: string;
  key: string;
  /** CA whose client certificates may call (the cluster CA). */
  clientCa: string;
  /** User names (certificate CN) allowed to call; default the control plane's. */
  allowedUsers?: readonly string[];
}

export function agentServerCredentials(tls: AgentServingTls): ServerCredentials {
  return ServerCredentials.createSsl(Buffer.from(tls.clientCa), [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }], true);
}

/** Null when the caller may call; else the refusal to send. */
export function refuseCaller(tls: AgentServingTls, peer: PeerCertificate | undefined): ServerErrorResponse | null {
  const allowed = tls.allowedUsers ?? [KUBELET_CLIENT_USER];
  const cn = peer?.subject?.CN;
  const user = Array.isArray(cn) ? cn[0] : cn;
  if (user && allowed.includes(user)) return null;
  const err = new Error(`user "${user ?? 'unknown'}" may not call the node agent: only the control plane (${allowed.join(', ')}) may`) as ServerErrorResponse;
  err.code = status.PERMISSION_DENIED;
  err.details = err.message;
  return err;
}
