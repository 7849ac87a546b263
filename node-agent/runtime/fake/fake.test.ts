import { runtimeConformance } from '../conformance.js';
import { FakeRuntime } from './driver.js';
import { FakeHost } from './host.js';

// One simulated node for the whole suite: "restarting" the agent is a new FakeRuntime on it.
const host = new FakeHost({ podCidr: '10.244.3.0/24' });
runtimeConformance('fake', () => new FakeRuntime({ host, nodeName: 'node-a' }), {
  image: 'skiff/hello:1',
  missingImage: '127.0.0.1:9/skiff/does-not-exist:1',
});
