import { describe, expect, it } from 'vitest';
import type { ObjectReference } from '../../proto/gen/skiff/v1/meta.js';
import { EventSpamFilter, SPAM_BURST } from './event-spam-filter.js';

const ref = (name: string, uid = `uid-${name}`): ObjectReference => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: 'default', name, uid, resourceVersion: '1', fieldPath: '',
});

describe('EventSpamFilter', () => {
  it('lets a burst of 25 through per object, source and reason, then one per 5 minutes', () => {
    let now = 1_000_000;
    const f = new EventSpamFilter(() => now);
    const create = (r = ref('web'), source = 'replicaset-controller'): boolean => f.allow(source, r, 'Normal', 'SuccessfulCreate');
    const allowed = Array.from({ length: 40 }, () => create()).filter(Boolean).length;
    expect(allowed).toBe(SPAM_BURST);
    // Other objects, sources and reasons have their own buckets.
    expect(create(ref('api'))).toBe(true);
    expect(create(ref('web'), 'deployment-controller')).toBe(true);
    expect(create(ref('web', 'uid-new'))).toBe(true);
    expect(f.allow('replicaset-controller', ref('web'), 'Warning', 'FailedCreate')).toBe(true);
    now += 299_000;
    expect(create()).toBe(false);
    now += 1_000;
    expect(create()).toBe(true);
    expect(create()).toBe(false);
  });
});
