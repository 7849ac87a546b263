// The kernel side of the routes: a RouteTable reads back exactly the routes this agent owns and
// changes one at a time. The real one tags its routes with its own routing protocol number
// (`proto 157`, like bird or zebra tag theirs), so `ip route show proto 157` lists only them and
// nothing else on the machine is ever deleted.
import type { Exec } from '../exec.js';
import type { Route } from './route-set.js';

export interface RouteTable {
  /** The routes this agent owns now. */
  list(): Promise<Route[]>;
  /** Adds the route, or rewrites the one to the same destination. */
  replace(r: Route): Promise<void>;
  del(r: Route): Promise<void>;
}

/** rtm_protocol of Skiff's routes: unassigned in iproute2's rt_protos (which names 0-4, 8-18, 42, 99, 186-192). */
export const SKIFF_ROUTE_PROTOCOL = 157;

interface IpJsonRoute {
  dst?: string;
  gateway?: string;
  protocol?: string | number;
}

export class IpRouteTable implements RouteTable {
  private readonly proto: string;

  constructor(
    private readonly exec: Exec,
    protocol = SKIFF_ROUTE_PROTOCOL,
  ) {
    if (!Number.isInteger(protocol) || protocol < 1 || protocol > 255) throw new Error(`route protocol ${protocol} must be 1..255`);
    this.proto = String(protocol);
  }

  async list(): Promise<Route[]> {
    const out = await this.exec(['ip', '-4', '-json', 'route', 'show', 'table', 'main', 'proto', this.proto]);
    const rows = (out.trim() ? JSON.parse(out) : []) as IpJsonRoute[];
    return rows
      .filter((r) => r.dst && r.dst !== 'default')
      // `ip` prints a /32 destination without its prefix length.
      .map((r) => ({ dst: r.dst!.includes('/') ? r.dst! : `${r.dst!}/32`, via: r.gateway ?? '' }));
  }

  async replace(r: Route): Promise<void> {
    await this.exec(['ip', 'route', 'replace', r.dst, 'via', r.via, 'proto', this.proto]);
  }

  async del(r: Route): Promise<void> {
    const argv = ['ip', 'route', 'del', r.dst, ...(r.via ? ['via', r.via] : []), 'proto', this.proto];
    await this.exec(argv);
  }
}
