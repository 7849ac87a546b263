// The conformance suite on a real containerd (CRI plugin, runc, CNI bridge) started for this
// file, with the sample images imported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContainerd, type Containerd } from '../../../test/helpers/containerd.js';
import { runtimeConformance } from '../conformance.js';
import { CriRuntime } from './driver.js';
import type { SandboxConfig } from '../runtime.js';

let containerd: Containerd | undefined;
beforeAll(async () => {
  containerd = await startContainerd();
}, 120_000);
afterAll(async () => {
  await containerd?.stop();
}, 120_000);

runtimeConformance(
  'cri',
  () => {
    if (!containerd) throw new Error('containerd did not start');
    return new CriRuntime({ address: containerd.address, nodeName: 'node-a', pollIntervalMs: 100 });
  },
  { image: 'skiff/hello:1', missingImage: '127.0.0.1:9/skiff/does-not-exist:1' },
);

describe('CRI exits pushed by containerd', () => {
  it('answers a wait from the task exit event, with no relist to fall back on', async () => {
    if (!containerd) throw new Error('containerd did not start');
    // Relisting once an hour: the exit can only arrive through containerd's events service.
    const rt = new CriRuntime({ address: containerd.address, nodeName: 'node-events', pollIntervalMs: 3_600_000 });
    try {
      const sbCfg: SandboxConfig = {
        podUid: 'events-1', podName: 'events-1', podNamespace: 'conformance', attempt: 0, hostNetwork: false, hostname: '',
        portMappings: [], labels: {}, annotations: {}, logDirectory: '', cpuMillisLimit: 0, memoryBytesLimit: 0,
      };
      const sb = await rt.startSandbox(sbCfg);
      try {
        const ct = await rt.startContainer(sb, sbCfg, {
          name: 'main', image: 'skiff/hello:1', command: ['sh', '-c', 'sleep 2; exit 7'], args: [], env: [], workingDir: '', mounts: [],
          attempt: 0, logPath: '', cpuMillisLimit: 0, cpuMillisRequest: 0, memoryBytesLimit: 0, labels: {}, annotations: {}, tty: false, stdin: false,
        });
        expect(await rt.waitContainer(ct)).toMatchObject({ exitCode: 7, reason: 'Error' });
      } finally {
        await rt.destroySandbox(sb);
      }
    } finally {
      await rt.close();
    }
  });
});
