// The pure part of node IPAM (kube-controller-manager's range allocator, `cidrset`): the
// cluster CIDR cut into node-sized ranges, each either free or held by one owner (a node name).
// It knows nothing about etcd or informers; the controller feeds it the Nodes it sees.
import { containsCidr, formatCidr, overlaps, parseCidr, type Cidr } from '../../../proto/api/cidr.js';

/** Kubernetes' cidrset refuses more than 16 bits between the cluster and node mask sizes. */
export const MAX_SUBNET_BITS = 16;

export class CidrExhaustedError extends Error {
  readonly code = 'CIDRExhausted';
  constructor(cluster: Cidr, maskSize: number) {
    super(`no free /${maskSize} range left in the cluster CIDR ${formatCidr(cluster)} (all ${2 ** (maskSize - cluster.bits)} are in use)`);
  }
}

export type OccupyResult =
  /** The range does not touch the cluster CIDR: nothing to track. */
  | { outside: true }
  /** Marked used; conflicts lists other owners already holding part of it (they keep it). */
  | { outside: false; conflicts: string[] };

export class RangeAllocator {
  readonly cluster: Cidr;
  /** Number of node ranges in the cluster CIDR. */
  readonly capacity: number;
  /** Range index -> owner. */
  private readonly owners = new Map<number, string>();
  /** Where the next search starts, so a just-freed range is not handed out again at once. */
  private next = 0;

  constructor(clusterCidr: string, readonly maskSize: number) {
    const c = parseCidr(clusterCidr);
    if (typeof c === 'string') throw new Error(`cluster CIDR ${c}`);
    if (!Number.isInteger(maskSize) || maskSize < c.bits || maskSize > 32) {
      throw new Error(`node CIDR mask size ${maskSize} must be between the cluster CIDR's ${c.bits} and 32`);
    }
    if (maskSize - c.bits > MAX_SUBNET_BITS) {
      throw new Error(`node CIDR mask size ${maskSize} is too big for ${clusterCidr}: at most ${MAX_SUBNET_BITS} bits more than the cluster's /${c.bits}`);
    }
    this.cluster = c;
    this.capacity = 2 ** (maskSize - c.bits);
  }

  get used(): number {
    return this.owners.size;
  }

  /** The node range of an index. */
  rangeAt(index: number): Cidr {
    return { base: (this.cluster.base + index * 2 ** (32 - this.maskSize)) >>> 0, bits: this.maskSize };
  }

  /** Indices of the node ranges that cidr covers (part of), or undefined when it misses the cluster. */
  private indices(cidr: Cidr): number[] | undefined {
    if (!overlaps(this.cluster, cidr)) return undefined;
    if (containsCidr(cidr, this.cluster)) return Array.from({ length: this.capacity }, (_, i) => i);
    const first = Math.floor((cidr.base - this.cluster.base) / 2 ** (32 - this.maskSize));
    const count = cidr.bits >= this.maskSize ? 1 : 2 ** (this.maskSize - cidr.bits);
    return Array.from({ length: count }, (_, i) => first + i);
  }

  /** Marks a range owner already has (a node registered with it, or one allocated earlier). */
  occupy(cidr: Cidr, owner: string): OccupyResult {
    const idx = this.indices(cidr);
    if (!idx) return { outside: true };
    const conflicts = new Set<string>();
    for (const i of idx) {
      const held = this.owners.get(i);
      if (held === undefined) this.owners.set(i, owner);
      else if (held !== owner) conflicts.add(held);
    }
    return { outside: false, conflicts: [...conflicts].sort() };
  }

  /** Frees the parts of cidr that owner holds; ranges of other owners stay. */
  release(cidr: Cidr, owner: string): void {
    for (const i of this.indices(cidr) ?? []) if (this.owners.get(i) === owner) this.owners.delete(i);
  }

  /** Frees every range owner holds. */
  releaseOwner(owner: string): Cidr[] {
    const freed: Cidr[] = [];
    for (const [i, o] of this.owners) {
      if (o !== owner) continue;
      this.owners.delete(i);
      freed.push(this.rangeAt(i));
    }
    return freed;
  }

  /** Ranges owner holds. */
  rangesOf(owner: string): Cidr[] {
    return [...this.owners].filter(([, o]) => o === owner).map(([i]) => this.rangeAt(i));
  }

  /** Takes the next free range for owner; CidrExhaustedError when none is left. */
  allocate(owner: string): Cidr {
    for (let k = 0; k < this.capacity; k++) {
      const i = (this.next + k) % this.capacity;
      if (this.owners.has(i)) continue;
      this.owners.set(i, owner);
      this.next = (i + 1) % this.capacity;
      return this.rangeAt(i);
    }
    throw new CidrExhaustedError(this.cluster, this.maskSize);
  }
}
