import { describe, expect, it } from 'vitest';
import { chooseNodeIP, listenIP, nodeStatus, type NodeIdentity } from './node-info.js';

const machine = (): string => '192.0.2.7';

describe('listenIP', () => {
  it.each([
    ['127.0.0.1:10250', '127.0.0.1'],
    ['10.0.0.5:0', '10.0.0.5'],
    ['[::1]:10250', '::1'],
    ['[fd00::5]:10250', 'fd00::5'],
  ])('%s listens on %s', (listen, ip) => {
    expect(listenIP(listen)).toBe(ip);
  });

  it.each(['', '0.0.0.0:10250', '[::]:10250', '[0:0:0:0:0:0:0:0]:1', 'localhost:10250', 'unix:/run/agent.sock', ':10250', '[::1'])(
    '%j names no one address',
    (listen) => {
      expect(listenIP(listen)).toBeUndefined();
    },
  );

  it('is undefined when the agent serves nothing', () => {
    expect(listenIP(undefined)).toBeUndefined();
  });
});

describe('chooseNodeIP', () => {
  it('publishes the address the agent listens on, so the control plane can dial it', () => {
    expect(chooseNodeIP(undefined, '127.0.0.1:10250', machine)).toBe('127.0.0.1');
    expect(chooseNodeIP(undefined, '[fd00::5]:10250', machine)).toBe('fd00::5');
  });

  it('lets an explicit node IP win', () => {
    expect(chooseNodeIP('10.1.2.3', '127.0.0.1:10250', machine)).toBe('10.1.2.3');
    expect(chooseNodeIP('10.1.2.3', '0.0.0.0:10250', machine)).toBe('10.1.2.3');
  });

  it("falls back to the machine's address for a wildcard listen or none", () => {
    expect(chooseNodeIP(undefined, '0.0.0.0:10250', machine)).toBe('192.0.2.7');
    expect(chooseNodeIP(undefined, '[::]:10250', machine)).toBe('192.0.2.7');
    expect(chooseNodeIP(undefined, '', machine)).toBe('192.0.2.7');
    expect(chooseNodeIP('', undefined, machine)).toBe('192.0.2.7');
  });
});

describe('nodeStatus', () => {
  it('publishes the node IP as InternalIP and the agent port as the daemon endpoint', () => {
    const id: NodeIdentity = {
      nodeName: 'n1', podCIDR: '', labels: {}, nodeIP: chooseNodeIP(undefined, '127.0.0.1:4321', machine), agentPort: 4321,
      runtimeVersion: 'fake://1', capacity: { cpu: '2', memory: '1Gi', pods: '110' },
    };
    const s = nodeStatus(id, undefined, '2026-01-01T00:00:00Z', { ready: true, reason: 'KubeletReady', message: 'ok', diskPressure: false, diskMessage: '' });
    expect(s.addresses[0]).toEqual({ type: 'InternalIP', address: '127.0.0.1' });
    expect(s.daemonEndpoints?.kubeletEndpoint?.Port).toBe(4321);
  });
});
