import { describe, expect, it } from 'vitest';
import type { ObjectReference } from '../../proto/gen/skiff/v1/meta.js';
import { EventSpamFilter, SPAM_BURST } from './event-spam-filter.js';

const ref = (name: string, uid = `uid-${name}`): ObjectReference => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: 'default', name, uid, resourceVersion: '1', fieldPath: '',
});

describe('EventSpamFilter', () => {
  it('lets a burst of 25 through per object and source, then one per 5 minutes', () => {
    let now = 1_000_000;
    const f = new EventSpamFilter(() => now);
    const allowed = Array.from({ length: 40 }, () => f.allow('replicaset-controller', ref('web'))).filter(Boolean).length;
    expect(allowed).toBe(SPAM_BURST);
    // Other objects and other sources have their own buckets.
    expect(f.allow('replicaset-controller', ref('api'))).toBe(true);
    expect(f.allow('deployment-controller', ref('web'))).toBe(true);
    expect(f.allow('replicaset-controller', ref('web', 'uid-new'))).toBe(true);
    now += 299_000;
    expect(f.allow('replicaset-controller', ref('web'))).toBe(false);
    now += 1_000;
    expect(f.allow('replicaset-controller', ref('web'))).toBe(true);
    expect(f.allow('replicaset-controller', ref('web'))).toBe(false);
  });
});
