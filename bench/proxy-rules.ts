#!/usr/bin/env node
// Node proxy sync cost for N services x M endpoints (default 1,000 x 10): rule generation and
// transaction text (pure), and, when run as root, applying it with nft inside a throwaway
// network namespace (full sync, then a partial sync after one endpoint changed).
// Run: npx tsc -p tsconfig.json && node dist/bench/proxy-rules.js [services] [endpoints]
// Prints one JSON object on stdout and a human summary on stderr.
import { performance } from 'node:perf_hooks';
import { servicePortKey } from '../node-agent/network/snapshot.js';
import { nftRunner } from '../node-agent/network/proxy/nft.js';
import { buildRuleset } from '../node-agent/network/proxy/ruleset.js';
import { bigSnapshot, ep } from '../node-agent/network/proxy/testdata.js';
import { fullTransaction, partialTransaction } from '../node-agent/network/proxy/transaction.js';
import { addNetns, deleteNetns, inNetns, netnsUnavailable, uniqueName } from '../test/helpers/netns.js';

const services = Number(process.argv[2] ?? 1000);
const perService = Number(process.argv[3] ?? 10);
const opts = { table: 'skiff-bench', serviceCIDR: '10.96.0.0/12', clusterCIDR: '10.244.0.0/14' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const snap = bigSnapshot(services, perService);
  const changed = { services: snap.services, endpoints: new Map(snap.endpoints) };
  changed.endpoints.set(servicePortKey('bench', 'svc-0', 'http'), [ep('10.247.255.1', 8080)]);

  const gen: number[] = [];
  const part: number[] = [];
  let full = '';
  let partial = '';
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const rs = buildRuleset(snap, opts);
    full = fullTransaction(rs);
    const t1 = performance.now();
    partial = partialTransaction(rs, buildRuleset(changed, opts));
    const t2 = performance.now();
    gen.push(t1 - t0);
    part.push(t2 - t1);
  }
  const result: { [k: string]: number | string } = {
    services, endpointsPerService: perService,
    generateFullMs: Number(median(gen).toFixed(1)), generatePartialMs: Number(median(part).toFixed(1)),
    fullBytes: full.length, fullLines: full.split('\n').length - 1, partialBytes: partial.length,
  };
  const skip = netnsUnavailable();
  if (skip) {
    result.kernel = `skipped: ${skip}`;
  } else {
    const ns = uniqueName('skb');
    await addNetns(ns);
    try {
      const nft = nftRunner({ prefix: inNetns(ns, []) });
      let t = performance.now();
      await nft.apply(full);
      result.applyFullMs = Math.round(performance.now() - t);
      t = performance.now();
      await nft.apply(partial);
      result.applyPartialMs = Math.round(performance.now() - t);
    } finally {
      await deleteNetns(ns);
    }
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.stderr.write(`proxy rules for ${services} services x ${perService} endpoints: generate full ${result.generateFullMs} ms ` +
    `(${(full.length / 1e6).toFixed(1)} MB), partial ${result.generatePartialMs} ms; nft apply full ${String(result.applyFullMs ?? '-')} ms, ` +
    `partial (one endpoint changed) ${String(result.applyPartialMs ?? '-')} ms\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
