// How Skiff's configs become CRI messages, and gRPC failures RuntimeErrors (no containerd).
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { NamespaceMode, Protocol } from '../../../proto/gen/runtime/v1/api.js';
import type { ContainerConfig, SandboxConfig } from '../runtime.js';
import { criError } from './client.js';
import { cpuShares, exitReason, linuxResources } from './containers.js';
import { podSandboxConfig } from './sandbox.js';

const sb = (over: Partial<SandboxConfig> = {}): SandboxConfig => ({
  podUid: 'u1', podName: 'web-1', podNamespace: 'default', attempt: 2, hostNetwork: false, hostname: '', portMappings: [],
  labels: { app: 'web' }, annotations: { a: 'b' }, logDirectory: '/var/log/pods/default_web-1_u1', cpuMillisLimit: 0, memoryBytesLimit: 0, ...over,
});

function grpcError(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });
}

describe('CRI mapping', () => {
  it('labels the sandbox for discover() and names it after the pod', () => {
    const c = podSandboxConfig('node-1', sb());
    expect(c.metadata).toEqual({ name: 'web-1', uid: 'u1', namespace: 'default', attempt: 2 });
    expect(c.hostname).toBe('web-1');
    expect(c.labels).toEqual({
      app: 'web', 'io.skiff.managed': 'true', 'io.skiff.node': 'node-1',
      'io.skiff.pod-uid': 'u1', 'io.skiff.pod-name': 'web-1', 'io.skiff.pod-namespace': 'default',
    });
    expect(c.linux?.securityContext?.namespaceOptions).toMatchObject({ network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER });
  });

  it('uses the node network and no hostname for hostNetwork pods', () => {
    const c = podSandboxConfig('', sb({ hostNetwork: true, hostname: 'ignored' }));
    expect(c.hostname).toBe('');
    expect(c.linux?.securityContext?.namespaceOptions?.network).toBe(NamespaceMode.NODE);
    expect(c.labels['io.skiff.node']).toBeUndefined();
  });

  it('maps host ports', () => {
    const c = podSandboxConfig('', sb({ portMappings: [
      { containerPort: 8080, hostPort: 80, protocol: 'TCP', hostIP: '' },
      { containerPort: 53, hostPort: 5353, protocol: 'udp', hostIP: '127.0.0.1' },
    ] }));
    expect(c.portMappings).toEqual([
      { protocol: Protocol.TCP, containerPort: 8080, hostPort: 80, hostIp: '' },
      { protocol: Protocol.UDP, containerPort: 53, hostPort: 5353, hostIp: '127.0.0.1' },
    ]);
    expect(() => podSandboxConfig('', sb({ portMappings: [{ containerPort: 1, hostPort: 1, protocol: 'ICMP', hostIP: '' }] }))).toThrow(/unknown protocol "ICMP"/);
  });

  it.each([
    ['no limits', 0, 0, 0, { cpuPeriod: 0, cpuQuota: 0, cpuShares: 2, memoryLimitInBytes: 0 }],
    ['500m limit, 250m request, 64Mi', 500, 250, 64 << 20, { cpuPeriod: 100_000, cpuQuota: 50_000, cpuShares: 256, memoryLimitInBytes: 64 << 20 }],
    ['limit only: shares follow the limit', 2000, 0, 0, { cpuPeriod: 100_000, cpuQuota: 200_000, cpuShares: 2048, memoryLimitInBytes: 0 }],
    ['tiny limit: quota floor 1ms', 5, 5, 0, { cpuPeriod: 100_000, cpuQuota: 1000, cpuShares: 5, memoryLimitInBytes: 0 }],
  ])('container resources: %s', (_n, limit, request, mem, want) => {
    const cfg = { cpuMillisLimit: limit, cpuMillisRequest: request, memoryBytesLimit: mem } as ContainerConfig;
    expect(linuxResources(cfg)).toEqual(want);
  });

  it('computes shares like the kubelet', () => {
    expect([0, 1, 2, 100, 1000].map(cpuShares)).toEqual([2, 2, 2, 102, 1024]);
  });

  it('defaults exit reasons like Kubernetes', () => {
    expect(exitReason(0, '')).toBe('Completed');
    expect(exitReason(2, '')).toBe('Error');
    expect(exitReason(137, 'OOMKilled')).toBe('OOMKilled');
  });

  it.each([
    [status.UNKNOWN, 'CreateContainerError', 'CreateContainerError'],
    [status.NOT_FOUND, 'CreateContainerError', 'NotFound'],
    [status.NOT_FOUND, 'ErrImagePull', 'ErrImagePull'],
    [status.UNAVAILABLE, 'ErrImagePull', 'Unavailable'],
    [status.DEADLINE_EXCEEDED, 'RunContainerError', 'Timeout'],
  ])('gRPC code %i during %s is reason %s', (code, step, reason) => {
    const e = criError(grpcError(code, 'boom'), step, 'container x: create');
    expect(e.reason).toBe(reason);
    expect(e.message).toContain('container x: create');
    expect(e.message).toContain('boom');
  });
});
