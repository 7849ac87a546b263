// Ruleset -> one `nft -f` transaction. The kernel applies a file all or nothing, so a sync never
// leaves half a ruleset behind. Two forms, as kube-proxy does:
// - full (on start, after a failed sync): add + delete + re-create the table, so whatever was
//   there before (an older agent's rules, a hand edit) is gone;
// - partial (after a successful sync): only chains whose rules changed are flushed and
//   refilled, the maps are refilled, removed chains and sets are deleted last. Dynamic
//   affinity sets are declared once and never flushed, so ClientIP affinity survives syncs.
import type { Chain, NftSet, Ruleset } from './ruleset.js';

function declareChain(t: string, c: Chain): string {
  if (!c.hook) return `add chain ip ${t} ${c.name}`;
  return `add chain ip ${t} ${c.name} { type ${c.hook.type} hook ${c.hook.hook} priority ${c.hook.priority} ; policy accept ; }`;
}

function declareSet(t: string, s: NftSet): string {
  return `add ${s.kind} ip ${t} ${s.name} { ${s.spec} }`;
}

function elements(t: string, s: NftSet): string[] {
  // Chunks keep each command line a reasonable size for 10,000s of elements.
  const out: string[] = [];
  for (let i = 0; i < s.elements.length; i += 500) {
    out.push(`add element ip ${t} ${s.name} { ${s.elements.slice(i, i + 500).join(' , ')} }`);
  }
  return out;
}

function rules(t: string, c: Chain): string[] {
  return c.rules.map((r) => `add rule ip ${t} ${c.name} ${r}`);
}

function sameChain(a: Chain, b: Chain): boolean {
  return a.rules.length === b.rules.length && a.rules.every((r, i) => r === b.rules[i]) && JSON.stringify(a.hook) === JSON.stringify(b.hook);
}

export function fullTransaction(rs: Ruleset): string {
  const t = rs.table;
  const out = [`add table ip ${t}`, `delete table ip ${t}`, `add table ip ${t}`];
  for (const s of rs.sets.values()) out.push(declareSet(t, s));
  for (const c of rs.chains.values()) out.push(declareChain(t, c));
  for (const c of rs.chains.values()) out.push(...rules(t, c));
  for (const s of rs.sets.values()) out.push(...elements(t, s));
  return out.join('\n') + '\n';
}

/** The changes from `prev` (what the kernel holds, as last applied) to `next`. */
export function partialTransaction(prev: Ruleset, next: Ruleset): string {
  const t = next.table;
  const out = [`add table ip ${t}`];
  for (const s of next.sets.values()) if (!prev.sets.has(s.name)) out.push(declareSet(t, s));
  for (const c of next.chains.values()) if (!prev.chains.has(c.name)) out.push(declareChain(t, c));
  for (const s of next.sets.values()) if (!s.dynamic && prev.sets.has(s.name)) out.push(`flush ${s.kind} ip ${t} ${s.name}`);
  const removedChains = [...prev.chains.values()].filter((c) => !next.chains.has(c.name));
  for (const c of next.chains.values()) {
    const old = prev.chains.get(c.name);
    if (old && !sameChain(old, c)) out.push(`flush chain ip ${t} ${c.name}`);
  }
  // Emptied first so no rule still points at them when they are deleted below.
  for (const c of removedChains) out.push(`flush chain ip ${t} ${c.name}`);
  for (const c of next.chains.values()) {
    const old = prev.chains.get(c.name);
    if (!old || !sameChain(old, c)) out.push(...rules(t, c));
  }
  for (const s of next.sets.values()) if (!s.dynamic) out.push(...elements(t, s));
  for (const c of removedChains) out.push(`delete chain ip ${t} ${c.name}`);
  for (const s of prev.sets.values()) if (!next.sets.has(s.name)) out.push(`delete ${s.kind} ip ${t} ${s.name}`);
  return out.join('\n') + '\n';
}

export function deleteTableTransaction(table: string): string {
  // `add` first makes the delete succeed when the table is already gone.
  return `add table ip ${table}\ndelete table ip ${table}\n`;
}
