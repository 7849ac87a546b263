// The conformance suite on a real containerd (CRI plugin, runc, CNI bridge) started for this
// file, with the sample images imported.
import { afterAll, beforeAll } from 'vitest';
import { startContainerd, type Containerd } from '../../../test/helpers/containerd.js';
import { runtimeConformance } from '../conformance.js';
import { CriRuntime } from './driver.js';

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
    // Relisting only once an hour: every exit the suite waits for must come through containerd's events.
    return new CriRuntime({ address: containerd.address, nodeName: 'node-a', pollIntervalMs: 3_600_000 });
  },
  { image: 'skiff/hello:1', missingImage: '127.0.0.1:9/skiff/does-not-exist:1' },
);
