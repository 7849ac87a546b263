// Fixture for Deployment controller tests (kubernetes deployment_controller_test.go style): the
// FakeClient holds the objects, each sync() reads them through fresh listers (an informer that
// has caught up) and the test asserts the recorded calls.
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import { PodTemplateSpec, type Pod } from '../../../proto/gen/skiff/v1/core.js';
import { FakeRecorder } from '../events.js';
import { controllerRefFor } from '../runtime/claim.js';
import { FakeClient } from '../runtime/fake-client.js';
import { iso, T0 } from '../runtime/fixtures.js';
import { STANDARD_INDEXES } from '../runtime/indexes.js';
import { StaticLister } from '../runtime/lister.js';
import type { Result } from '../runtime/controller.js';
import { syncDeployment } from './sync.js';
import {
  computeHash,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
} from './util.js';

export interface RsFor {
  image: string;
  replicas: number;
  available?: number;
  /** status.replicas; defaults to replicas */
  actual?: number;
  revision: number;
  created?: number;
  /** desired-replicas annotation; defaults to the Deployment's replicas */
  desired?: number;
  maxReplicas?: number;
}

/** A ReplicaSet the Deployment would have made for a template with this image. */
export function rsFor(d: Deployment, o: RsFor): ReplicaSet {
  const template = PodTemplateSpec.fromPartial(d.spec!.template!);
  template.spec!.containers[0]!.image = o.image;
  const hash = computeHash(template);
  template.metadata!.labels = { ...template.metadata!.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
  const name = `${d.metadata!.name}-${hash}`;
  const desired = o.desired ?? d.spec!.replicas ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      generateName: '',
      namespace: 'default',
      uid: `uid-${name}`,
      resourceVersion: '1',
      generation: 1,
      creationTimestamp: iso(o.created ?? T0),
      deletionTimestamp: '',
      labels: { ...template.metadata!.labels },
      annotations: {
        [REVISION_ANNOTATION]: String(o.revision),
        [DESIRED_REPLICAS_ANNOTATION]: String(desired),
        [MAX_REPLICAS_ANNOTATION]: String(o.maxReplicas ?? desired + Math.ceil(desired / 4)),
      },
      ownerReferences: [controllerRefFor({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata!.name, uid: d.metadata!.uid })],
      finalizers: [],
    },
    spec: {
      replicas: o.replicas,
      minReadySeconds: d.spec!.minReadySeconds,
      selector: { matchLabels: { ...d.spec!.selector!.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash }, matchExpressions: [] },
      template,
    },
    status: {
      replicas: o.actual ?? o.replicas,
      fullyLabeledReplicas: o.actual ?? o.replicas,
      readyReplicas: o.available ?? 0,
      availableReplicas: o.available ?? 0,
      observedGeneration: 1,
      conditions: [],
    },
  };
}

export class DeploymentFixture {
  readonly client: FakeClient;
  readonly recorder = new FakeRecorder();
  now = T0;

  constructor(d: Deployment, rsList: ReplicaSet[] = [], pods: Pod[] = []) {
    this.client = new FakeClient([
      { kind: 'Deployment', object: d },
      ...rsList.map((o) => ({ kind: 'ReplicaSet' as const, object: o })),
      ...pods.map((o) => ({ kind: 'Pod' as const, object: o })),
    ]);
  }

  /** One pass over the current objects; returns the pass's result. */
  sync(name = 'web'): Promise<Result> {
    return syncDeployment(`default/${name}`, {
      deploymentLister: new StaticLister(this.client.storedAll('Deployment'), STANDARD_INDEXES),
      rsLister: new StaticLister(this.client.storedAll('ReplicaSet'), STANDARD_INDEXES),
      podLister: new StaticLister(this.client.storedAll('Pod'), STANDARD_INDEXES),
      client: this.client,
      recorder: this.recorder,
      now: () => this.now,
    });
  }

  deployment(name = 'web'): Deployment {
    return this.client.stored('Deployment', 'default', name)!;
  }

  replicaSets(): ReplicaSet[] {
    return this.client.storedAll('ReplicaSet').sort((a, b) => (a.metadata!.name < b.metadata!.name ? -1 : 1));
  }

  rs(name: string): ReplicaSet {
    const rs = this.client.stored('ReplicaSet', 'default', name);
    if (!rs) throw new Error(`no ReplicaSet ${name}`);
    return rs;
  }

  /** Pretends the ReplicaSet controller converged: status follows spec, all available. */
  async settle(name: string, available?: number): Promise<void> {
    const rs = this.rs(name);
    const n = rs.spec!.replicas ?? 0;
    rs.status = { replicas: n, fullyLabeledReplicas: n, readyReplicas: available ?? n, availableReplicas: available ?? n, observedGeneration: rs.metadata!.generation, conditions: [] };
    await this.client.updateStatus('ReplicaSet', rs);
    this.client.actions.pop(); // the test's own write is not the controller's
  }

  /** The controller's writes since the last clear(), as "verb kind name". */
  writes(): string[] {
    return this.client.summary({ verbs: ['create', 'update', 'patch', 'delete'] });
  }

  clear(): void {
    this.client.actions.length = 0;
    this.recorder.events.length = 0;
  }
}
