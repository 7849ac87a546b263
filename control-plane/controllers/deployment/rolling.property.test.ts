// Property: for any replica count, maxSurge and maxUnavailable, a rolling update driven only by
// planRollingStep never has more than replicas + maxSurge replicas, never fewer than
// replicas - maxUnavailable available, and finishes with every replica on the new template.
// The ReplicaSet controller is modelled as converging at once; new pods become available at an
// arbitrary pace (fast-check picks it).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import { deploymentFixture } from '../runtime/fixtures.js';
import { planRollingStep } from './rolling.js';
import { rsFor } from './testing.js';
import { maxSurge, maxUnavailable, rsReplicas } from './util.js';

const intOrPct = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom('0%', '10%', '25%', '50%', '100%'));

describe('rolling update (property)', () => {
  it('stays within surge and availability bounds and completes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        intOrPct,
        intOrPct,
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 50 }),
        (replicas, surge, unavailable, pace) => {
          const d = deploymentFixture('web', {
            replicas,
            image: 'v2',
            strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } },
          });
          const old = rsFor(d, { image: 'v1', replicas, available: replicas, revision: 1, created: 0 });
          const neu = rsFor(d, { image: 'v2', replicas: 0, available: 0, revision: 2, created: 1 });
          const maxTotal = replicas + maxSurge(d);
          const minAvailable = replicas - maxUnavailable(d);
          const avail = (rs: ReplicaSet): number => rs.status!.availableReplicas;
          for (let step = 0; step < 500; step++) {
            const plan = planRollingStep({ deployment: d, newRS: neu, oldRSs: [old] });
            for (const a of plan.actions) {
              const rs = a.rs === neu.metadata!.name ? neu : old;
              rs.spec!.replicas = a.to;
              // The ReplicaSet controller removes unavailable pods first and creates new
              // ones not yet available.
              rs.status!.replicas = a.to;
              rs.status!.availableReplicas = Math.min(avail(rs), a.to);
            }
            expect(rsReplicas(old) + rsReplicas(neu)).toBeLessThanOrEqual(maxTotal);
            expect(avail(old) + avail(neu)).toBeGreaterThanOrEqual(minAvailable);
            if (plan.kind === 'none') {
              if (rsReplicas(neu) === replicas && avail(neu) === replicas && rsReplicas(old) === 0) return;
              // Nothing to do until pods become available: let some (at least one) do so.
              const grow = Math.max(1, pace[step % pace.length]!);
              neu.status!.availableReplicas = Math.min(rsReplicas(neu), avail(neu) + grow);
            }
          }
          throw new Error('rollout did not finish in 500 steps');
        },
      ),
      { numRuns: 300 },
    );
  });
});
