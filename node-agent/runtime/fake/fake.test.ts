import { describe, expect, it } from 'vitest';
import { runtimeConformance } from '../conformance.js';
import type { SandboxConfig } from '../runtime.js';
import { FakeRuntime } from './driver.js';
import { FakeHost } from './host.js';

// One simulated node for the whole suite: "restarting" the agent is a new FakeRuntime on it.
const host = new FakeHost({ podCidr: '10.244.3.0/24' });
runtimeConformance('fake', () => new FakeRuntime({ host, nodeName: 'node-a' }), {
  image: 'skiff/hello:1',
  missingImage: '127.0.0.1:9/skiff/does-not-exist:1',
});

describe('FakeRuntime.killContainer (chaos runs)', () => {
  it('ends a running container with exit 137 as kill -9 would, and only a running one', async () => {
    const h = new FakeHost({ podCidr: '10.244.4.0/24', writeLogs: false });
    const rt = new FakeRuntime({ host: h, nodeName: 'node-k' });
    const sbCfg: SandboxConfig = {
      podUid: 'uid-k', podName: 'pod-k', podNamespace: 'default', attempt: 0, hostNetwork: false, hostname: '',
      portMappings: [], labels: {}, annotations: {}, logDirectory: '/nonexistent', cpuMillisLimit: 0, memoryBytesLimit: 0,
    };
    const sb = await rt.startSandbox(sbCfg);
    const ct = await rt.startContainer(sb, sbCfg, {
      name: 'main', image: 'skiff/hello:1', command: [], args: [], env: [], workingDir: '', mounts: [], attempt: 0,
      logPath: 'main/0.log', cpuMillisLimit: 0, cpuMillisRequest: 0, memoryBytesLimit: 0, labels: {}, annotations: {}, tty: false, stdin: false,
    });
    expect(rt.killContainer(ct.containerId)).toBe(true);
    const exit = await rt.waitContainer(ct);
    expect(exit.exitCode).toBe(137);
    expect(rt.killContainer(ct.containerId)).toBe(false);
    expect(rt.killContainer('no-such-id')).toBe(false);
    h.shutdown();
  });
});
