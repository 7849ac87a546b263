// A client's control planes, one gRPC channel each, and which one it uses now. One pick_first
// channel over every address (endpoints.ts) moves only when its connection breaks; a control
// plane that keeps the connection open but cannot serve (cut off from etcd: it answers
// Unavailable; paused: it answers nothing) would keep its clients for the whole outage. Here a
// call that found its control plane unable to serve moves the client to the next address, so
// the next call (a heartbeat's retry, a resumed watch) goes to another control plane.
import { controlPlaneTarget, stripScheme } from './endpoints.js';

/**
 * The separate control-plane addresses of a server list ("a:1,b:2"); a single entry (one
 * address, or one name resolving to several) stays one.
 */
export function controlPlaneList(servers: string | readonly string[]): string[] {
  const list = (typeof servers === 'string' ? servers.split(',') : [...servers]).map(stripScheme).filter(Boolean);
  // Validates the list the same way a single channel over it would (one family of IPs, or one name).
  controlPlaneTarget(list);
  return list;
}

/** Outcomes of a call that mean "this control plane cannot serve now, another may". */
export function movesOn(code: string): boolean {
  return code === 'Unavailable' || code === 'Timeout';
}

export class EndpointSet<C extends { close(): void }> {
  private readonly clients: (C | undefined)[];
  private at = 0;
  /** How many times the client moved to another control plane. */
  moves = 0;
  private readonly listeners = new Set<(from: number, to: number) => void>();

  constructor(
    readonly addresses: readonly string[],
    private make: (address: string) => C,
  ) {
    if (addresses.length === 0) throw new Error('no control-plane address given');
    this.clients = addresses.map(() => undefined);
  }

  /** Index of the control plane in use. */
  get index(): number {
    return this.at;
  }

  get address(): string {
    return this.addresses[this.at]!;
  }

  /** The channel of control plane `i` (default: the one in use), opened on first use. */
  client(i = this.at): C {
    return (this.clients[i] ??= this.make(this.addresses[i]!));
  }

  /**
   * A call sent to control plane `i` found it unable to serve: move to the next one, unless the
   * client has already moved away from `i` (many calls fail together; one move is enough).
   * Returns whether it moved.
   */
  failed(i: number): boolean {
    if (i !== this.at || this.addresses.length < 2) return false;
    this.at = (this.at + 1) % this.addresses.length;
    this.moves++;
    for (const l of this.listeners) l(i, this.at);
    return true;
  }

  /**
   * New channels from now on (a renewed client certificate), on the same control plane; returns
   * the channels opened so far, for the caller to close once what runs on them is done.
   */
  renew(make: (address: string) => C): C[] {
    this.make = make;
    const old = this.clients.filter((c): c is C => c !== undefined);
    this.clients.fill(undefined);
    return old;
  }

  /** Called after each move (to end streams still open on the control plane left). */
  onMove(fn: (from: number, to: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    for (const c of this.clients) c?.close();
    this.listeners.clear();
  }
}
