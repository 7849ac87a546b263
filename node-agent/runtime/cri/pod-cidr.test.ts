// A node that takes its pod range from the control plane: containerd starts with no CNI config,
// only a template; the agent's UpdateRuntimeConfig (CriRuntime.updatePodCIDR) makes containerd
// render it with the range, and sandboxes then get IPs from it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containsAddress, mustParseCidr, parseIPv4 } from '../../../proto/api/cidr.js';
import { startContainerd, type Containerd } from '../../../test/helpers/containerd.js';
import { IMAGES, sampleImage } from '../../../test/helpers/images.js';
import { CriRuntime } from './driver.js';

let containerd: Containerd | undefined;
let rt: CriRuntime | undefined;
beforeAll(async () => {
  // Only the pause image: the sandbox is all this test runs.
  containerd = await startContainerd({ podCidrFromAgent: true, images: [await sampleImage(IMAGES.pause)] });
  rt = new CriRuntime({ address: containerd.address, nodeName: 'node-cidr', pollIntervalMs: 100 });
}, 120_000);
afterAll(async () => {
  await rt?.close();
  await containerd?.stop();
}, 120_000);

describe('CRI UpdateRuntimeConfig', () => {
  it('has containerd render the CNI config with the pod CIDR the agent sends', async () => {
    const c = containerd!;
    const cniDir = join(c.stateDir, 'cni');
    expect(await readdir(cniDir)).toEqual([]);
    await rt!.updatePodCIDR(c.subnet);
    const files = await readdir(cniDir);
    expect(files).toEqual(['10-containerd-net.conflist']);
    const conf = JSON.parse(await readFile(join(cniDir, files[0]!), 'utf8')) as { plugins: { type: string; ipMasq?: boolean; ipam?: { ranges: { subnet: string }[][] } }[] };
    const bridge = conf.plugins.find((p) => p.type === 'bridge')!;
    expect(bridge.ipam?.ranges[0]?.[0]?.subnet).toBe(c.subnet);
    expect(bridge.ipMasq).toBe(false);

    const sb = await rt!.startSandbox({
      podUid: `uid-${process.pid}`, podName: 'cidr', podNamespace: 'default', attempt: 0, hostNetwork: false, hostname: '',
      portMappings: [], labels: {}, annotations: {}, logDirectory: join(c.stateDir, 'pod-logs'), cpuMillisLimit: 0, memoryBytesLimit: 0,
    });
    try {
      expect(containsAddress(mustParseCidr(c.subnet), parseIPv4(sb.podIP)!)).toBe(true);
    } finally {
      await rt!.destroySandbox(sb);
    }
  });
});
