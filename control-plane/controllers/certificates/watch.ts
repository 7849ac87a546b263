// The shared edge of the certificate controllers: a runner fed by every change of one kind's
// informer (keys only; each sync reads the cache again, level-based).
import { objectKey, type Kind, type KindMap } from '../../../proto/api/kinds.js';
import type { Clock } from '../../../proto/api/clock.js';
import type { SharedInformers } from '../../informers.js';
import { Controller, type Result } from '../runtime/controller.js';
import type { Logger } from '../runtime/log.js';

export class KindRunner<K extends Kind> {
  readonly runner: Controller;
  private remove?: () => void;

  constructor(
    private readonly informers: SharedInformers,
    private readonly kind: K,
    name: string,
    sync: (o: KindMap[K]) => Promise<Result>,
    opts: { log?: Logger; clock?: Clock } = {},
  ) {
    this.runner = new Controller({
      name, workers: 1, log: opts.log, clock: opts.clock,
      reconcile: async (key) => {
        const o = this.informers.get(this.kind).get(key);
        return o ? sync(o) : {};
      },
    });
  }

  async start(): Promise<void> {
    const inf = this.informers.get(this.kind);
    await this.informers.start([this.kind]);
    const add = (o: KindMap[K]): void => this.runner.enqueue(objectKey(o));
    this.remove = inf.addHandlers({ onAdd: add, onUpdate: (_o, n) => add(n), onDelete: () => undefined });
    this.runner.start();
    for (const o of inf.list()) add(o);
  }

  stop(): Promise<void> {
    this.remove?.();
    return this.runner.stop();
  }
}
