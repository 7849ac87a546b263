import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../proto/api/manifest.js';
import { LAST_APPLIED, lastAppliedText, mergeApplied, readLastApplied, threeWayMerge } from './apply-merge.js';

const deploy = (spec: JsonObject, extraMeta: JsonObject = {}): JsonObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', ...extraMeta }, spec,
});

describe('threeWayMerge', () => {
  it.each<[string, JsonObject | undefined, JsonObject, JsonObject, JsonObject]>([
    ['declared field wins over live', { a: 1 }, { a: 2 }, { a: 1 }, { a: 2 }],
    ['field dropped from the manifest is removed', { a: 1, b: 2 }, { a: 1 }, { a: 1, b: 2 }, { a: 1 }],
    ['field never declared (set by a controller) is kept', { a: 1 }, { a: 1 }, { a: 1, c: 3 }, { a: 1, c: 3 }],
    ['nested removal keeps siblings set by others', { s: { x: 1, y: 2 } }, { s: { x: 1 } }, { s: { x: 1, y: 2, z: 9 } }, { s: { x: 1, z: 9 } }],
    ['lists are replaced as a whole', { l: [1, 2] }, { l: [3] }, { l: [1, 2, 4] }, { l: [3] }],
    ['null in the manifest deletes', undefined, { a: null }, { a: 1, b: 2 }, { b: 2 }],
    ['no last-applied: nothing is removed', undefined, { a: 1 }, { a: 0, b: 2 }, { a: 1, b: 2 }],
    ['object replaces a scalar', { a: 1 }, { a: { x: 1 } }, { a: 1 }, { a: { x: 1 } }],
  ])('%s', (_name, last, desired, live, want) => {
    expect(threeWayMerge(last, desired, live)).toEqual(want);
  });

  it('does not change its inputs', () => {
    const live = { s: { x: 1, y: 2 } };
    threeWayMerge({ s: { y: 2 } }, { s: { x: 5 } }, live);
    expect(live).toEqual({ s: { x: 1, y: 2 } });
  });
});

describe('mergeApplied', () => {
  it('keeps replicas set by a scale when the manifest does not declare them, and status', () => {
    const desired = deploy({ template: { spec: { containers: [{ name: 'a', image: 'x:1' }] } } });
    const live = {
      ...deploy({ replicas: 7, template: { spec: { containers: [{ name: 'a', image: 'x:1' }] } } }, {
        annotations: { [LAST_APPLIED]: lastAppliedText(desired) },
        uid: 'u1',
      }),
      status: { replicas: 7 },
    };
    const merged = mergeApplied(desired, live);
    expect(merged.spec).toEqual({ replicas: 7, template: { spec: { containers: [{ name: 'a', image: 'x:1' }] } } });
    expect(merged.status).toEqual({ replicas: 7 });
    expect((merged.metadata as JsonObject).uid).toBe('u1');
  });

  it('removes a declared replicas that the new manifest drops, and records the new manifest', () => {
    const v1 = deploy({ replicas: 3, paused: true });
    const live = deploy({ replicas: 3, paused: true }, { annotations: { [LAST_APPLIED]: lastAppliedText(v1), keep: 'me' } });
    const v2 = deploy({ paused: true });
    const merged = mergeApplied(v2, live);
    expect(merged.spec).toEqual({ paused: true });
    expect(readLastApplied(merged)).toEqual(v2);
    expect(((merged.metadata as JsonObject).annotations as JsonObject).keep).toBe('me');
  });

  it('an unchanged manifest merges to the live object', () => {
    const v1 = deploy({ replicas: 3 });
    const live = deploy({ replicas: 3 }, { annotations: { [LAST_APPLIED]: lastAppliedText(v1) } });
    expect(mergeApplied(v1, live)).toEqual(live);
  });
});
