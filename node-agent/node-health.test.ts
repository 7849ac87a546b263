import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRuntime } from './runtime/fake/driver.js';
import { FakeHost } from './runtime/fake/host.js';
import { assess, parseDiskThreshold, probeHealth, type HealthFindings } from './node-health.js';

const GiB = 1024 ** 3;
const up = [
  { type: 'RuntimeReady', status: true, reason: '', message: '' },
  { type: 'NetworkReady', status: true, reason: '', message: '' },
];
const base: HealthFindings = {
  podCIDR: '10.244.1.0/24',
  runtime: { conditions: up },
  disk: { availableBytes: 50 * GiB, totalBytes: 100 * GiB },
  threshold: { percent: 10 },
};

describe('assess', () => {
  it.each<[string, Partial<HealthFindings>, boolean, RegExp]>([
    ['all well: Ready', {}, true, /posting ready status/],
    ['runtime does not answer: NotReady', { runtime: { error: 'no answer within 5000 ms' } }, false, /container runtime is down: no answer within 5000 ms/],
    ['RuntimeReady false', { runtime: { conditions: [{ ...up[0]!, status: false, reason: 'Broken', message: 'shim' }, up[1]!] } }, false, /container runtime not ready: Broken: shim/],
    ['NetworkReady false', { runtime: { conditions: [up[0]!, { ...up[1]!, status: false, reason: 'NetworkPluginNotReady', message: 'cni config uninitialized' }] } }, false, /network not ready: NetworkPluginNotReady: cni config uninitialized/],
    ['a condition missing counts as not ready', { runtime: { conditions: [up[0]!] } }, false, /NetworkReady missing/],
    ['no pod CIDR yet', { podCIDR: '' }, false, /waiting for this node's pod CIDR/],
  ])('%s', (_name, over, ready, message) => {
    const h = assess({ ...base, ...over });
    expect(h.ready).toBe(ready);
    expect(h.reason).toBe(ready ? 'KubeletReady' : 'KubeletNotReady');
    expect(h.message).toMatch(message);
  });

  it.each<[string, HealthFindings['disk'], HealthFindings['threshold'], boolean]>([
    ['50% free against 10%: no pressure', { availableBytes: 50 * GiB, totalBytes: 100 * GiB }, { percent: 10 }, false],
    ['9% free against 10%: pressure', { availableBytes: 9 * GiB, totalBytes: 100 * GiB }, { percent: 10 }, true],
    ['exactly 10% free: no pressure (below, not at)', { availableBytes: 10 * GiB, totalBytes: 100 * GiB }, { percent: 10 }, false],
    ['500Mi free against 1Gi: pressure', { availableBytes: 500 * 1024 ** 2, totalBytes: 100 * GiB }, { bytes: GiB }, true],
    ['statfs failed: unknown is not pressure', { error: 'ENOENT' }, { percent: 10 }, false],
  ])('%s', (_name, disk, threshold, pressure) => {
    const h = assess({ ...base, disk, threshold });
    expect(h.diskPressure).toBe(pressure);
    expect(h.ready).toBe(true); // disk pressure taints the node; it does not make it NotReady
  });
});

describe('parseDiskThreshold', () => {
  it('takes a percentage or a quantity and refuses anything else', () => {
    expect(parseDiskThreshold('10%')).toEqual({ percent: 10 });
    expect(parseDiskThreshold('1Gi')).toEqual({ bytes: GiB });
    expect(() => parseDiskThreshold('120%')).toThrow(/between 0% and 100%/);
    expect(() => parseDiskThreshold('lots')).toThrow(/use a percentage \(10%\) or a quantity \(1Gi\)/);
  });
});

describe('probeHealth', () => {
  it('asks the fake runtime and statfs; a runtime that stops answering turns the node NotReady', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-health-'));
    try {
      const host = new FakeHost();
      const rt = new FakeRuntime({ host });
      const ok = assess(await probeHealth(rt, dir, '10.244.0.0/24', { percent: 0 }));
      expect(ok).toMatchObject({ ready: true, diskPressure: false });
      // Any real filesystem has less than 100% free: the threshold is crossed.
      expect(assess(await probeHealth(rt, dir, '10.244.0.0/24', { percent: 100 })).diskPressure).toBe(true);
      host.health.answering = false;
      const down = assess(await probeHealth(rt, dir, '10.244.0.0/24', { percent: 0 }));
      expect(down).toMatchObject({ ready: false, reason: 'KubeletNotReady' });
      expect(down.message).toMatch(/container runtime is down/);
      host.health.answering = true;
      host.health.networkReady = false;
      expect(assess(await probeHealth(rt, dir, '10.244.0.0/24', { percent: 0 })).message).toMatch(/network not ready/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
