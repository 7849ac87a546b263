import { describe, expect, it } from 'vitest';
import { KINDS } from '../../proto/api/kinds.js';
import { buildTable } from '../../proto/api/columns/columns.js';
import { formatTable } from './table.js';
import { deployment, event, node, NOW, replicaSet, runningReady, crashLooping } from '../testing/objects.js';

const opts = { wide: false, withNamespace: false, now: NOW };

describe('get tables', () => {
  it('pods: NAME READY STATUS RESTARTS AGE, wide adds IP NODE', () => {
    const objs = [crashLooping('web-2', { uid: 'u', name: 'web-abc' }), runningReady('web-1')];
    expect(formatTable(buildTable(KINDS.Pod, objs, opts))).toBe([
      'NAME    READY   STATUS                      RESTARTS      AGE',
      'web-1   1/1     Running                     0             60s',
      'web-2   0/1     CrashLoopBackOff (exit 1)   3 (20s ago)   60s',
    ].join('\n'));
    const wide = buildTable(KINDS.Pod, [runningReady('web-1')], { ...opts, wide: true });
    expect(wide.headers).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE']);
    expect(wide.rows[0]?.slice(5)).toEqual(['10.88.0.5', 'n1']);
  });

  it('deployments: NAME READY UP-TO-DATE AVAILABLE AGE', () => {
    const d = deployment('web', { status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } });
    expect(formatTable(buildTable(KINDS.Deployment, [d], opts))).toBe(
      ['NAME   READY   UP-TO-DATE   AVAILABLE   AGE', 'web    2/3     3            2           60m'].join('\n'),
    );
    const wide = buildTable(KINDS.Deployment, [d], { ...opts, wide: true });
    expect(wide.rows[0]?.slice(5)).toEqual(['app', 'hello:1', 'app=web']);
  });

  it('replicasets: NAME DESIRED CURRENT READY AGE, with NAMESPACE for -A', () => {
    const rs = replicaSet('web-abc', deployment('web'), 1, { status: { replicas: 3, readyReplicas: 1 } });
    expect(formatTable(buildTable(KINDS.ReplicaSet, [rs], { ...opts, withNamespace: true }))).toBe(
      ['NAMESPACE   NAME      DESIRED   CURRENT   READY   AGE', 'default     web-abc   3         3         1       10m'].join('\n'),
    );
  });

  it('nodes: STATUS Ready/NotReady and SchedulingDisabled when cordoned', () => {
    const t = buildTable(KINDS.Node, [node('n2', false, { unschedulable: true }), node('n1', true)], opts);
    expect(formatTable(t)).toBe([
      'NAME   STATUS                        ROLES    AGE   VERSION',
      'n1     Ready                         worker   24h   skiff-0.1.0',
      'n2     NotReady,SchedulingDisabled   worker   24h   skiff-0.1.0',
    ].join('\n'));
  });

  it('events: LAST SEEN TYPE REASON OBJECT MESSAGE, oldest first', () => {
    const t = buildTable(KINDS.Event, [event('b', 'ScalingReplicaSet', 5_000, 'Scaled up to 3'), event('a', 'Created', 90_000, 'first')], opts);
    expect(formatTable(t)).toBe([
      'LAST SEEN   TYPE     REASON              OBJECT           MESSAGE',
      '90s         Normal   Created             deployment/web   first',
      '5s          Normal   ScalingReplicaSet   deployment/web   Scaled up to 3',
    ].join('\n'));
  });
});
