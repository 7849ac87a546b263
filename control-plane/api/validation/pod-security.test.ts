import { describe, expect, it } from 'vitest';
import { fromManifest, type JsonObject } from '../../../proto/api/manifest.js';
import type { Pod } from '../../../proto/gen/skiff/v1/core.js';
import { applyDefaults } from '../defaults.js';
import { Causes } from './causes.js';
import { validateObject } from './index.js';
import { hostPathProblem, subPathProblem } from './pod.js';
import { checkPodSecurity, ENFORCE_LABEL, namespaceLevel, type PodSecurityLevel } from './pod-security.js';

const pod = (spec: JsonObject): Pod => fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'x' }, spec }).object as Pod;

function problems(doc: JsonObject): string[] {
  const { info, object } = fromManifest(doc);
  applyDefaults(info, object);
  return validateObject(info, object).map((c) => `${c.field}: ${c.message}`);
}

function forbidden(spec: JsonObject, level: PodSecurityLevel): string[] {
  const c = new Causes();
  checkPodSecurity(pod(spec).spec, 'spec', level, 'x', c);
  return c.list.map((f) => `${f.field}: ${f.message}`);
}

describe('subPath and hostPath.path', () => {
  it('subPath stays relative and never climbs', () => {
    expect(subPathProblem('a/b')).toBeUndefined();
    expect(subPathProblem('a..b/c..')).toBeUndefined();
    expect(subPathProblem('../x')).toBe(`must not contain '..', got "../x"`);
    expect(subPathProblem('a/../../x')).toMatch(/must not contain '\.\.'/);
    expect(subPathProblem('/etc')).toBe('must be a relative path, got "/etc"');
  });

  it('hostPath.path is absolute and clean', () => {
    for (const ok of ['/', '/var/log', '/data/a.b']) expect(hostPathProblem(ok)).toBeUndefined();
    expect(hostPathProblem('var/log')).toBe('must be an absolute path, got "var/log"');
    expect(hostPathProblem('/var/../etc')).toMatch(/must not contain '\.\.'/);
    expect(hostPathProblem('/var//log')).toBe('must be a clean path ("/var/log"), got "/var//log"');
    expect(hostPathProblem('/var/./log')).toBe('must be a clean path ("/var/log"), got "/var/./log"');
    expect(hostPathProblem('/var/log/')).toBe('must be a clean path ("/var/log"), got "/var/log/"');
  });

  it('a pod with a climbing subPath or an unclean hostPath is Invalid with the field paths', () => {
    expect(problems({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: {
        volumes: [{ name: 'h', hostPath: { path: '/srv//data' } }],
        containers: [{ name: 'a', image: 'i:1', volumeMounts: [{ name: 'h', mountPath: '/d', subPath: '../x' }] }],
      },
    })).toEqual([
      'spec.volumes[0].hostPath.path: must be a clean path ("/srv/data"), got "/srv//data"',
      `spec.containers[0].volumeMounts[0].subPath: must not contain '..', got "../x"`,
    ]);
  });
});

describe('pod security levels', () => {
  it('namespaces without the label are baseline, system ones privileged', () => {
    expect(namespaceLevel('default', undefined)).toBe('baseline');
    expect(namespaceLevel('shop', {})).toBe('baseline');
    expect(namespaceLevel('kube-node-lease', undefined)).toBe('privileged');
    expect(namespaceLevel('kube-system', {})).toBe('privileged');
    expect(namespaceLevel('shop', { [ENFORCE_LABEL]: 'privileged' })).toBe('privileged');
    expect(namespaceLevel('kube-system', { [ENFORCE_LABEL]: 'restricted' })).toBe('restricted');
  });

  it('an enforce label naming no level is Invalid', () => {
    expect(problems({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', labels: { [ENFORCE_LABEL]: 'strict' } } })).toEqual([
      `metadata.labels[${ENFORCE_LABEL}]: unsupported value "strict": supported values: "privileged", "baseline", "restricted"`,
    ]);
    expect(problems({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', labels: { [ENFORCE_LABEL]: 'restricted' } } })).toEqual([]);
  });

  const hostly: JsonObject = {
    hostNetwork: true,
    volumes: [{ name: 'e', emptyDir: {} }, { name: 'h', hostPath: { path: '/var/log' } }],
    initContainers: [{ name: 'i', image: 'i:1', securityContext: { privileged: true } }],
    containers: [{ name: 'a', image: 'i:1', securityContext: { privileged: true }, ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] }],
  };

  it('baseline forbids privileged, hostPath, hostNetwork and hostPorts, naming each field', () => {
    const by = 'not allowed by the "baseline" pod security level of namespace "x"';
    expect(forbidden(hostly, 'baseline')).toEqual([
      `spec.hostNetwork: Forbidden: host networking is ${by}`,
      `spec.volumes[1].hostPath: Forbidden: hostPath volumes are ${by}`,
      `spec.initContainers[0].securityContext.privileged: Forbidden: privileged containers are ${by}`,
      `spec.containers[0].securityContext.privileged: Forbidden: privileged containers are ${by}`,
      `spec.containers[0].ports[0].hostPort: Forbidden: hostPorts are ${by}`,
    ]);
    expect(forbidden(hostly, 'privileged')).toEqual([]);
    expect(forbidden({ containers: [{ name: 'a', image: 'i:1', securityContext: { privileged: false } }] }, 'baseline')).toEqual([]);
  });

  it('restricted also wants non-root and no privilege escalation, from the pod or the container', () => {
    const by = 'by the "restricted" pod security level of namespace "x"';
    expect(forbidden({ containers: [{ name: 'a', image: 'i:1' }] }, 'restricted')).toEqual([
      `spec.containers[0].securityContext.runAsNonRoot: Forbidden: must be true (here or in spec.securityContext) ${by}`,
      `spec.containers[0].securityContext.allowPrivilegeEscalation: Forbidden: must be false ${by}`,
    ]);
    expect(forbidden({
      securityContext: { runAsNonRoot: true, runAsUser: 1000 },
      containers: [{ name: 'a', image: 'i:1', securityContext: { allowPrivilegeEscalation: false } }],
    }, 'restricted')).toEqual([]);
    expect(forbidden({
      securityContext: { runAsNonRoot: true },
      containers: [{ name: 'a', image: 'i:1', securityContext: { runAsNonRoot: false, runAsUser: 0, allowPrivilegeEscalation: false } }],
    }, 'restricted')).toEqual([
      `spec.containers[0].securityContext.runAsNonRoot: Forbidden: must be true (here or in spec.securityContext) ${by}`,
      `spec.containers[0].securityContext.runAsUser: Forbidden: 0 (root) is not allowed ${by}`,
    ]);
    expect(forbidden(hostly, 'restricted')).toHaveLength(5 + 4);
  });
});
