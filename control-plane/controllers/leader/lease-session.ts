// The etcd calls leader election needs, each with its own deadline so an unreachable etcd
// turns into a failure in bounded time instead of a call that hangs past the lease's TTL.
import type { Etcd3 } from 'etcd3';

export function deadline(ms: number): { deadline: number } {
  return { deadline: Date.now() + ms };
}

export async function grantLease(client: Etcd3, ttlSeconds: number, timeoutMs: number): Promise<{ id: string; ttlSeconds: number }> {
  const res = await client.leaseClient.leaseGrant({ TTL: ttlSeconds }, deadline(timeoutMs));
  return { id: res.ID, ttlSeconds: Number(res.TTL) };
}

/** Renews a lease once; resolves to the TTL etcd granted, or 0 when the lease no longer exists. */
export async function keepAliveOnce(client: Etcd3, id: string, timeoutMs: number): Promise<number> {
  const stream = await client.leaseClient.leaseKeepAlive(deadline(timeoutMs));
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    stream.on('data', (res) => {
      if (settled) return;
      settled = true;
      stream.end();
      resolve(Number(res.TTL));
    });
    // After we have our answer the stream may still end with an error (deadline, cancel):
    // nothing to do then, but the listener must stay so it is not an unhandled 'error'.
    stream.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
    stream.write({ ID: id });
  });
}

export async function revokeLease(client: Etcd3, id: string, timeoutMs: number): Promise<void> {
  await client.leaseClient.leaseRevoke({ ID: id }, deadline(timeoutMs));
}
