import { describe, expect, it } from 'vitest';
import { isApiError } from '../../../proto/api/errors.js';
import { strategicMergePatch } from './strategic.js';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web', tier: 'a' }, finalizers: ['x'] },
  spec: {
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'a:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }], args: ['x', 'y'] },
          { name: 'side', image: 's:1' },
        ],
        volumes: [{ name: 'v', emptyDir: {} }],
        tolerations: [{ key: 'k', operator: 'Exists' }],
      },
    },
  },
};

const D = 'skiff.v1.Deployment';
type Doc = typeof deployment;
const patchOf = (p: unknown): Doc => strategicMergePatch(deployment, p, D) as unknown as Doc;
const containers = (d: Doc) => d.spec.template.spec.containers;

describe('strategic merge patch', () => {
  it('merges containers by name and env by name, keeps the rest', () => {
    const out = patchOf({ spec: { template: { spec: { containers: [{ name: 'app', image: 'a:2', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] } } } });
    expect(containers(out).map((c) => c.name)).toEqual(['app', 'side']);
    expect(containers(out)[0]!.image).toBe('a:2');
    expect(containers(out)[0]!.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
    expect(containers(out)[0]!.ports).toEqual([{ containerPort: 80 }]);
  });

  it('replaces lists without a merge key (args, tolerations) and merges maps with null deletes', () => {
    const out = patchOf({ metadata: { labels: { tier: null, new: 'n' } }, spec: { template: { spec: { containers: [{ name: 'app', args: ['z'] }], tolerations: [] } } } });
    expect(out.metadata.labels).toEqual({ app: 'web', new: 'n' });
    expect(containers(out)[0]!.args).toEqual(['z']);
    expect(out.spec.template.spec.tolerations).toEqual([]);
  });

  it('$patch: delete removes an element, $patch: replace replaces a list or a map', () => {
    expect(containers(patchOf({ spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } })).map((c) => c.name)).toEqual(['app']);
    const replaced = patchOf({ spec: { template: { spec: { containers: [{ name: 'only', image: 'o:1' }, { $patch: 'replace' }] } } } });
    expect(containers(replaced)).toEqual([{ name: 'only', image: 'o:1' }]);
    const strategy = patchOf({ spec: { strategy: { $patch: 'replace', type: 'Recreate' } } });
    expect(strategy.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('$setElementOrder orders, $deleteFromPrimitiveList removes, $retainKeys clears', () => {
    const ordered = patchOf({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }] } } } });
    expect(containers(ordered).map((c) => c.name)).toEqual(['side', 'app']);
    const finalizers = patchOf({ metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } });
    expect(finalizers.metadata.finalizers).toEqual([]);
    const added = patchOf({ metadata: { finalizers: ['y', 'x'] } });
    expect(added.metadata.finalizers).toEqual(['x', 'y']);
    const retained = patchOf({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
    expect(retained.spec.strategy).toEqual({ type: 'Recreate' });
    const volumes = patchOf({ spec: { template: { spec: { volumes: [{ name: 'v', hostPath: { path: '/x' }, $retainKeys: ['name', 'hostPath'] }] } } } });
    expect(volumes.spec.template.spec.volumes).toEqual([{ name: 'v', hostPath: { path: '/x' } }]);
  });

  it('refuses malformed patches', () => {
    for (const bad of [[1], { spec: { template: { spec: { containers: [{ image: 'no-name' }] } } } }, { $patch: 'sideways' }, { metadata: { $retainKeys: ['name'] } }]) {
      let err: unknown;
      try {
        patchOf(bad);
      } catch (e) {
        err = e;
      }
      expect(isApiError(err, 'BadRequest')).toBe(true);
    }
  });
});
