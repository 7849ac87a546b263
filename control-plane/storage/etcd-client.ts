// The one place an etcd3 client is made, with the fault handling the control plane needs: a
// bounded retry and per-call deadlines so an unreachable etcd becomes Unavailable in seconds,
// and no message-size limit (a list of 30,000 pods is larger than gRPC's 4 MiB default).
import type { ChannelCredentials } from '@grpc/grpc-js';
import { Etcd3, GRPCDeadlineExceededError, isRecoverableError } from 'etcd3';
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry, type IBackoff } from 'cockatiel';
import { withoutIpServerName } from '../../proto/api/tls-client.js';

/** PEM texts for etcd client TLS (--etcd-cafile, --etcd-certfile, --etcd-keyfile). */
export interface EtcdTls {
  ca: string;
  cert?: string;
  key?: string;
}

export function newEtcdClient(endpoints: string[], opts: { dialTimeoutMs?: number; tls?: EtcdTls } = {}): Etcd3 {
  const tls = opts.tls;
  const client = new Etcd3({
    hosts: endpoints,
    ...(tls ? {
      credentials: {
        rootCertificate: Buffer.from(tls.ca),
        ...(tls.cert && tls.key ? { certChain: Buffer.from(tls.cert), privateKey: Buffer.from(tls.key) } : {}),
      },
    } : {}),
    dialTimeout: opts.dialTimeoutMs ?? 3000,
    grpcOptions: {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5000,
    },
    faultHandling: {
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
      // Not once the deadline has passed: the retry would fail at once on another member and
      // count against its circuit breaker, so a few calls stuck on a forwarded proposal (the
      // etcd leader died) would open the breakers of the healthy members too.
      global: retry(handleWhen((e) => isRecoverableError(e) && !(e instanceof GRPCDeadlineExceededError)), {
        maxAttempts: 2,
        backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
      }),
      // etcd3 types this as a backoff but calls .next() on it: it wants the factory.
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }) as unknown as IBackoff<unknown>,
    },
  });
  if (tls) dropIpServerName(client);
  return client;
}

/**
 * etcd3 makes its grpc credentials itself (one object its hosts share, from the PEM texts
 * alone), so grpc-js would send an IP endpoint as the TLS server name (Node's DEP0123). The
 * hosts read the credentials only when they first dial, so they are adjusted here as the
 * agent's and CLI's are (tls-client.ts); etcd's certificate is still checked against the
 * address. Should etcd3's shape change, nothing is altered and etcd-tls.test.ts sees the
 * warning come back.
 */
function dropIpServerName(client: Etcd3): void {
  const pool = (client as unknown as { pool?: { hosts?: { channelCredentials?: ChannelCredentials }[] } }).pool;
  const seen = new Set<ChannelCredentials>();
  for (const h of pool?.hosts ?? []) {
    const c = h.channelCredentials;
    if (!c || seen.has(c)) continue;
    seen.add(c);
    withoutIpServerName(c);
  }
}
