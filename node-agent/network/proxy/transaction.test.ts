import { describe, expect, it } from 'vitest';
import { buildRuleset } from './ruleset.js';
import { ep, snapshot, svc } from './testdata.js';
import { deleteTableTransaction, fullTransaction, partialTransaction } from './transaction.js';

const opts = { table: 'skiff-test', serviceCIDR: '10.96.0.0/16' };
const lines = (s: string) => s.trim().split('\n');

const one = buildRuleset(snapshot([svc('shop', 'web', { sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 60 })],
  { 'shop/web:http': [ep('10.244.1.2', 8080), ep('10.244.1.3', 8080)] }), opts);
const oneLess = buildRuleset(snapshot([svc('shop', 'web', { sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 60 })],
  { 'shop/web:http': [ep('10.244.1.2', 8080)] }), opts);

describe('fullTransaction', () => {
  it('replaces the table: add, delete, add, then declarations before rules before elements', () => {
    const l = lines(fullTransaction(one));
    expect(l.slice(0, 3)).toEqual(['add table ip skiff-test', 'delete table ip skiff-test', 'add table ip skiff-test']);
    const firstRule = l.findIndex((x) => x.startsWith('add rule'));
    const lastDecl = l.map((x) => /^add (chain|set|map) /.test(x)).lastIndexOf(true);
    const firstEl = l.findIndex((x) => x.startsWith('add element'));
    expect(lastDecl).toBeLessThan(firstRule);
    expect(l.map((x) => x.startsWith('add rule')).lastIndexOf(true)).toBeLessThan(firstEl);
    expect(l).toContain('add chain ip skiff-test nat-prerouting { type nat hook prerouting priority -100 ; policy accept ; }');
    expect(l).toContain('add chain ip skiff-test nat-postrouting { type nat hook postrouting priority 100 ; policy accept ; }');
  });

  it('splits large element lists into chunks of 500', () => {
    const many = buildRuleset(snapshot(Array.from({ length: 1200 }, (_, i) => svc('ns', `s${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}` }))), opts);
    const els = lines(fullTransaction(many)).filter((x) => x.startsWith('add element ip skiff-test cluster-ips'));
    expect(els).toHaveLength(3);
  });
});

describe('partialTransaction', () => {
  it('with nothing changed: only the non-dynamic sets and maps are refilled', () => {
    const l = lines(partialTransaction(one, one));
    expect(l[0]).toBe('add table ip skiff-test');
    expect(l.filter((x) => x.startsWith('add rule'))).toEqual([]);
    expect(l.filter((x) => x.startsWith('flush chain'))).toEqual([]);
    expect(l).toContain('flush map ip skiff-test service-ips');
    expect(l).toContain('flush set ip skiff-test cluster-ips');
    expect(l.some((x) => x.includes('flush set ip skiff-test affinity-'))).toBe(false);
    expect(l.some((x) => x.startsWith('delete'))).toBe(false);
  });

  it('an endpoint gone: its chain and affinity set are deleted after the service chain is rewritten', () => {
    const l = lines(partialTransaction(one, oneLess));
    const goneChain = [...one.chains.keys()].find((n) => n.endsWith('__10.244.1.3/8080'))!;
    const goneSet = [...one.sets.keys()].find((n) => n.endsWith('__10.244.1.3/8080'))!;
    const svcChain = [...one.chains.keys()].find((n) => n.startsWith('service-') && n.endsWith('/http'))!;
    const flushSvc = l.indexOf(`flush chain ip skiff-test ${svcChain}`);
    const flushGone = l.indexOf(`flush chain ip skiff-test ${goneChain}`);
    const deleteGone = l.indexOf(`delete chain ip skiff-test ${goneChain}`);
    const deleteSet = l.indexOf(`delete set ip skiff-test ${goneSet}`);
    expect(flushSvc).toBeGreaterThan(0);
    expect(flushGone).toBeGreaterThan(0);
    expect(deleteGone).toBeGreaterThan(flushSvc);
    expect(deleteSet).toBeGreaterThan(flushSvc);
    expect(l.slice(-2).sort()).toEqual([`delete chain ip skiff-test ${goneChain}`, `delete set ip skiff-test ${goneSet}`].sort());
    // The surviving endpoint's chain and set are untouched (affinity entries stay).
    const kept = [...oneLess.chains.keys()].find((n) => n.endsWith('__10.244.1.2/8080'))!;
    expect(l.some((x) => x.includes(kept) && !x.startsWith('add rule ip skiff-test service-'))).toBe(false);
  });

  it('an endpoint added: declared, filled, referenced', () => {
    const l = lines(partialTransaction(oneLess, one));
    const added = [...one.chains.keys()].find((n) => n.endsWith('__10.244.1.3/8080'))!;
    expect(l).toContain(`add chain ip skiff-test ${added}`);
    expect(l).toContain(`add rule ip skiff-test ${added} meta l4proto tcp dnat to 10.244.1.3:8080`);
    expect(l.some((x) => x.startsWith('add set ip skiff-test affinity-') && x.includes('__10.244.1.3/8080'))).toBe(true);
  });
});

it('deleteTableTransaction succeeds whether or not the table exists', () => {
  expect(deleteTableTransaction('t')).toBe('add table ip t\ndelete table ip t\n');
});
