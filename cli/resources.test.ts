import { describe, expect, it } from 'vitest';
import { KINDS } from '../proto/api/kinds.js';
import { parseRef, qualifiedName, resolveType } from './resources.js';
import { parseTargets } from './commands/get.js';

describe('resource words', () => {
  it.each([['po', 'Pod'], ['pods', 'Pod'], ['deploy', 'Deployment'], ['Deployment', 'Deployment'], ['deployments.apps', 'Deployment'], ['rs', 'ReplicaSet'], ['no', 'Node'], ['ns', 'Namespace'], ['ev', 'Event'], ['svc', 'Service'], ['services', 'Service'], ['service', 'Service'], ['endpointslices', 'EndpointSlice'], ['endpointslice', 'EndpointSlice'], ['endpointslices.discovery.k8s.io', 'EndpointSlice']])('%s is %s', (w, k) => {
    expect(resolveType(w).kind).toBe(k);
  });
  it('names unknown types with the known ones', () => {
    expect(() => resolveType('ingresses')).toThrow(/doesn't have a resource type "ingresses".*deployments \(deploy\).*services \(svc\), endpointslices/);
    expect(() => resolveType('deployments.core')).toThrow('"deployments.core"');
  });
  it('qualifies names with the API group', () => {
    expect(qualifiedName(KINDS.Deployment)).toBe('deployment.apps');
    expect(qualifiedName(KINDS.Pod)).toBe('pod');
    expect(qualifiedName(KINDS.Lease)).toBe('lease.coordination.k8s.io');
  });
  it('reads TYPE/NAME, TYPE NAME and a bare NAME with a default type', () => {
    expect(parseRef(['deploy/web'])).toMatchObject({ info: KINDS.Deployment, name: 'web' });
    expect(parseRef(['deploy', 'web'])).toMatchObject({ info: KINDS.Deployment, name: 'web' });
    expect(parseRef(['web-1'], KINDS.Pod)).toMatchObject({ info: KINDS.Pod, name: 'web-1' });
    expect(() => parseRef(['web'])).toThrow('needs a name');
    expect(() => parseRef(['deploy/'])).toThrow('no name');
  });
  it('reads get targets', () => {
    expect(parseTargets(['deploy,rs']).map((t) => t.info.kind)).toEqual(['Deployment', 'ReplicaSet']);
    expect(parseTargets(['po', 'a', 'b'])).toEqual([{ info: KINDS.Pod, names: ['a', 'b'] }]);
    expect(parseTargets(['po/a', 'deploy/b', 'po/c'])).toEqual([{ info: KINDS.Pod, names: ['a', 'c'] }, { info: KINDS.Deployment, names: ['b'] }]);
    expect(() => parseTargets(['deploy,rs', 'x'])).toThrow('single resource type');
  });
});
