// Events controllers emit about the objects they act on (kubectl describe shows them). An event
// is a core Event named `<object>.<hex time>` in the object's namespace; a repeat of the same
// (object, type, reason, message) from this recorder bumps count and lastTimestamp of the
// earlier Event instead of creating another (Kubernetes' event aggregation), and at most 25
// events per involved object and reason are written in a burst (event-spam-filter.ts). Recording never
// throws into a controller and never blocks it: writes run in the background (in order for one
// aggregation key) and a failed write is logged and dropped.
import { isApiError } from '../../proto/api/errors.js';
import { metaOf, type AnyObject } from '../../proto/api/kinds.js';
import type { Event } from '../../proto/gen/skiff/v1/core.js';
import type { ObjectReference } from '../../proto/gen/skiff/v1/meta.js';
import type { ControllerClient } from './client.js';
import { EventSpamFilter } from './event-spam-filter.js';
import { rootLogger, type Logger } from './runtime/log.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(obj: AnyObject, type: EventType, reason: string, message: string): void;
}

export interface EventRecorderOptions {
  /** source.component and reportingComponent, e.g. "deployment-controller". */
  component: string;
  host?: string;
  now?: () => number;
  log?: Logger;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function referenceOf(obj: AnyObject): ObjectReference {
  const m = metaOf(obj);
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: m.namespace,
    name: m.name,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    fieldPath: '',
  };
}

const MAX_AGGREGATED = 4096;

export class ClientEventRecorder implements EventRecorder {
  /** aggregation key -> name of the Event that holds it */
  private readonly seen = new Map<string, { namespace: string; name: string }>();
  /** aggregation key -> the last write queued for it (writes of one key stay in order). */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly spam: EventSpamFilter;
  private seq = 0;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(
    private readonly client: ControllerClient,
    private readonly opts: EventRecorderOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.log = (opts.log ?? rootLogger).child({ component: opts.component });
    this.spam = new EventSpamFilter(this.now);
  }

  record(obj: AnyObject, type: EventType, reason: string, message: string): void {
    const ref = referenceOf(obj);
    if (!this.spam.allow(`${this.opts.component}\u0000${this.opts.host ?? ''}`, ref, type, reason)) return;
    const at = this.now();
    const key = [ref.kind, ref.namespace, ref.name, ref.uid, type, reason, message].join('\u0000');
    // Different keys write concurrently (the store folds them into shared transactions); a
    // repeat waits for the write before it, which it may aggregate into.
    const p = (this.pending.get(key) ?? Promise.resolve())
      .then(() => this.write(key, ref, type, reason, message, at))
      .catch((e: unknown) => this.log.warn({ err: e, reason, object: ref.name }, 'could not record event; dropped'));
    this.pending.set(key, p);
    void p.finally(() => {
      if (this.pending.get(key) === p) this.pending.delete(key);
    });
  }

  /** Resolves once every event recorded so far is written (or dropped). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending.values()]);
  }

  private async write(key: string, ref: ObjectReference, type: EventType, reason: string, message: string, at: number): Promise<void> {
    const namespace = ref.namespace || 'default';
    const prev = this.seen.get(key);
    if (prev) {
      try {
        await this.client.patch('Event', prev.namespace, prev.name, (ev) => {
          ev.count += 1;
          ev.lastTimestamp = rfc3339(at);
          return ev;
        });
        return;
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
        this.seen.delete(key); // expired or deleted: start a new one
      }
    }
    const name = `${ref.name}.${(BigInt(at) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
    const ts = rfc3339(at);
    const ev: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name, generateName: '', namespace, uid: '', resourceVersion: '', generation: 0, creationTimestamp: '',
        deletionTimestamp: '', labels: {}, annotations: {}, ownerReferences: [], finalizers: [],
      },
      involvedObject: ref,
      reason,
      message,
      source: { component: this.opts.component, host: this.opts.host ?? '' },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      type,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.host ?? '',
    };
    await this.client.create('Event', ev);
    if (this.seen.size >= MAX_AGGREGATED) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(key, { namespace, name });
  }
}

/** Test double: keeps "Type Reason message" lines, as kubernetes' FakeRecorder does. */
export class FakeRecorder implements EventRecorder {
  readonly events: string[] = [];

  record(_obj: AnyObject, type: EventType, reason: string, message: string): void {
    this.events.push(`${type} ${reason} ${message}`);
  }
}
