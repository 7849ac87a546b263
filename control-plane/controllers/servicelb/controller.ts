// The service load balancer controller: keeps status.loadBalancer.ingress of every
// LoadBalancer Service equal to the addresses of the Ready nodes (ingress.ts), whose proxies
// publish the Service's port (node-agent/network/proxy). Node changes re-queue every
// LoadBalancer Service; a Service that stops being a LoadBalancer has its ingress cleared.
import { isApiError } from '../../../proto/api/errors.js';
import { objectKey } from '../../../proto/api/kinds.js';
import type { Node, Service } from '../../../proto/gen/skiff/v1/core.js';
import type { SharedInformers } from '../../informers.js';
import { copyObject, type ControllerClient } from '../client.js';
import { Controller, type Result } from '../runtime/controller.js';
import type { Logger } from '../runtime/log.js';
import { ingressFor, sameIngress } from './ingress.js';

export interface ServiceLBControllerDeps {
  informers: SharedInformers;
  client: ControllerClient;
  log?: Logger;
}

const nodeShape = (n: Node): string =>
  JSON.stringify([n.status?.addresses, n.status?.conditions.find((c) => c.type === 'Ready')?.status, !!n.metadata?.deletionTimestamp]);

export class ServiceLBController {
  readonly runner: Controller;
  private readonly handlerRemovers: (() => void)[] = [];

  constructor(private readonly d: ServiceLBControllerDeps) {
    this.runner = new Controller({ name: 'service-lb', workers: 1, log: d.log, reconcile: (key) => this.sync(key) });
  }

  async start(): Promise<void> {
    const services = this.d.informers.get('Service');
    const nodes = this.d.informers.get('Node');
    await this.d.informers.start(['Service', 'Node']);
    const all = (): void => {
      for (const s of services.list()) if (s.spec?.type === 'LoadBalancer') this.enqueue(s);
    };
    this.handlerRemovers.push(services.addHandlers({
      onAdd: (s) => this.enqueue(s),
      onUpdate: (_o, s) => this.enqueue(s),
      onDelete: () => undefined,
    }));
    this.handlerRemovers.push(nodes.addHandlers({
      onAdd: all,
      onUpdate: (o, n) => {
        if (nodeShape(o) !== nodeShape(n)) all();
      },
      onDelete: all,
    }));
    this.runner.start();
    all();
  }

  stop(): Promise<void> {
    for (const remove of this.handlerRemovers.splice(0)) remove();
    return this.runner.stop();
  }

  private enqueue(s: Service): void {
    if (s.spec?.type === 'LoadBalancer' || (s.status?.loadBalancer?.ingress.length ?? 0) > 0) this.runner.enqueue(objectKey(s));
  }

  async sync(key: string): Promise<Result> {
    const svc = this.d.informers.get('Service').get(key);
    if (!svc) return {};
    const want = ingressFor(svc, this.d.informers.get('Node').list());
    if (sameIngress(svc.status?.loadBalancer?.ingress ?? [], want)) return {};
    const next = copyObject('Service', svc);
    next.status ??= { loadBalancer: undefined, conditions: [] };
    next.status.loadBalancer = { ingress: want };
    try {
      await this.d.client.updateStatus('Service', next);
    } catch (e) {
      // Gone: nothing to publish. Conflict: the cache's update event queues it again.
      if (isApiError(e, 'NotFound') || isApiError(e, 'Conflict')) return {};
      throw e;
    }
    return {};
  }
}
