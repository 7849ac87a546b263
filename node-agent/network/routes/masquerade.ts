// The agent's one nftables table: masquerade pod traffic that leaves the cluster CIDR, so
// pod-to-pod traffic between nodes keeps its source IP (the CNI bridge runs with ipMasq: false)
// while traffic to the outside world leaves with the node's address (flannel's rule). The
// script replaces the whole table in one `nft -f` transaction: `add` makes sure the `delete`
// has something to delete, so loading it twice, or over an older version, is atomic and leaves
// exactly one copy.
import { formatCidr, mustParseCidr } from '../../../proto/api/cidr.js';

export const DEFAULT_NAT_TABLE = 'skiff-nat';

export function checkTableName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,30}$/.test(name)) throw new Error(`nft table name "${name}" must be a letter then letters, digits, "-" or "_" (at most 31)`);
}

export function masqueradeScript(table: string, clusterCIDR: string): string {
  checkTableName(table);
  const cluster = formatCidr(mustParseCidr(clusterCIDR));
  return [
    `add table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    // Multicast stays as it is (flannel leaves 224.0.0.0/4 alone too).
    `\t\tip saddr ${cluster} ip daddr != ${cluster} ip daddr != 224.0.0.0/4 counter masquerade`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** Removes the table; loading it first makes the delete succeed whether it existed or not. */
export function removeTableScript(table: string): string {
  checkTableName(table);
  return `add table ip ${table}\ndelete table ip ${table}\n`;
}
