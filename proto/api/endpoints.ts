// Where a client (agent or CLI) dials the control plane: one address, or several for failover.
// One gRPC channel spans them all (grpc-js pick_first): it uses the first that answers and,
// when that connection fails, moves to the next; calls that are safe to repeat are retried
// across the move by gRPC's own retry policy, so a control plane dying under a client costs
// it one reconnect, not an error. A single DNS name that resolves to several addresses gives
// the same failover (gRPC's DNS resolver hands the channel every address).
export class EndpointsError extends Error {}

/** "http://host:port" or "host:port" -> "host:port", the form grpc-js dials. */
export function stripScheme(server: string): string {
  return server.trim().replace(/^(grpc|https?):\/\//, '').replace(/\/+$/, '');
}

const IPV4_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/;
const IPV6_PORT = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/;

/**
 * The gRPC target for one address or a comma list ("10.0.0.1:6443,10.0.0.2:6443"). A list
 * takes IP addresses of one family (gRPC's static ipv4:/ipv6: resolvers); for names, give one
 * name that resolves to every control plane.
 */
export function controlPlaneTarget(servers: string | readonly string[]): string {
  const list = (typeof servers === 'string' ? servers.split(',') : [...servers]).map(stripScheme).filter(Boolean);
  if (list.length === 0) throw new EndpointsError('no control-plane address given');
  if (list.length === 1) return list[0]!;
  if (list.every((s) => IPV4_PORT.test(s))) return `ipv4:${list.join(',')}`;
  if (list.every((s) => IPV6_PORT.test(s))) return `ipv6:${list.join(',')}`;
  throw new EndpointsError(
    `control-plane addresses ${list.join(', ')}: a list takes IP:port entries of one family (e.g. 10.0.0.1:6443,10.0.0.2:6443); for host names give one name that resolves to every control plane`,
  );
}

const IDEMPOTENT_METHODS = ['Get', 'List', 'Watch', 'Version', 'Apply'];

/**
 * Channel options for a control-plane client: pick_first over every address, and retries of
 * the calls that may be repeated (reads, watches before their first event, apply: it sets the
 * declared state, twice is the same as once) when the server was UNAVAILABLE, as during a
 * failover.
 */
export function failoverChannelOptions(): Record<string, string | number> {
  return {
    'grpc.enable_retries': 1,
    'grpc.service_config': JSON.stringify({
      loadBalancingConfig: [{ pick_first: {} }],
      methodConfig: [
        {
          name: IDEMPOTENT_METHODS.map((method) => ({ service: 'skiff.v1.Api', method })),
          retryPolicy: {
            maxAttempts: 5,
            initialBackoff: '0.2s',
            maxBackoff: '2s',
            backoffMultiplier: 2,
            retryableStatusCodes: ['UNAVAILABLE'],
          },
        },
      ],
    }),
  };
}
