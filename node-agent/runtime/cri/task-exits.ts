// Task exits pushed by containerd's events service, so a container's exit is seen as it happens
// instead of at the next relist (the kubelet's evented PLEG does the same with the CRI's
// GetContainerEvents, which containerd 1.6 lacks). The relist stays as the fallback: after the
// stream breaks it is reopened with back-off and the watcher relists once the new subscription
// is live, since exits in between were not pushed. containerd sends nothing, not even headers,
// until a matching event, so liveness is proven by publishing a marker event until it comes
// back on the stream. A runtime without the service (Unimplemented) is left to the relist.
import { credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { TaskExit } from '../../../proto/gen/containerd/events/task.js';
import { EventsClient, type Envelope } from '../../../proto/gen/containerd/services/events/v1/events.js';

/** The containerd namespace the CRI plugin keeps its pods and containers in. */
export const CRI_NAMESPACE = 'k8s.io';
export const TASK_EXIT_TOPIC = '/tasks/exit';
/** Published by the agent itself; receiving one proves the subscription is registered. */
export const LIVE_MARKER_TOPIC = '/skiff/event-stream-live';
/** Marker publishing backs off from 100 ms to 2 s while the subscription is not confirmed. */
const MARKER_FIRST_MS = 100;
const MARKER_MAX_MS = 2000;
const MARKER_WARN_AFTER = 20;

export interface TaskExitHandlers {
  /** The init process of containerId exited. */
  onExit(containerId: string): void;
  /** The stream (re)opened: exits since the last one may have been missed. */
  onResync(): void;
}

/** The exited container's id when the envelope reports its init process ending, else undefined. */
export function initExitOf(env: Envelope): string | undefined {
  if (env.topic !== TASK_EXIT_TOPIC || env.namespace !== CRI_NAMESPACE || !env.event) return undefined;
  const exit = TaskExit.decode(env.event.value);
  // Exec processes (probes, `skiff exec`) end with their own id; only the init process is the container.
  return exit.containerId && (exit.id === '' || exit.id === exit.containerId) ? exit.containerId : undefined;
}

export class TaskExitStream {
  private readonly client: EventsClient;
  private call: ClientReadableStream<Envelope> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;

  constructor(
    address: string,
    private readonly handlers: TaskExitHandlers,
    private readonly log?: Logger,
  ) {
    const target = address.startsWith('/') ? `unix://${address}` : address;
    this.client = new EventsClient(target, credentials.createInsecure());
  }

  start(): void {
    if (this.closed || this.call) return;
    const call = this.client.subscribe({
      filters: [
        `namespace==${CRI_NAMESPACE},topic=="${TASK_EXIT_TOPIC}"`,
        `namespace==${CRI_NAMESPACE},topic=="${LIVE_MARKER_TOPIC}"`,
      ],
    });
    this.call = call;
    let live = false;
    call.on('data', (env: Envelope) => {
      if (env.topic === LIVE_MARKER_TOPIC) {
        if (live) return;
        // Registered: anything that exited before now is found by one relist.
        live = true;
        this.failures = 0;
        this.handlers.onResync();
        return;
      }
      const id = initExitOf(env);
      if (id) this.handlers.onExit(id);
    });
    call.on('error', (e: ServiceError) => this.ended(call, live, e));
    call.on('end', () => this.ended(call, live));
    this.publishMarkers(call, () => live, 0);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.call?.cancel();
    this.call = undefined;
    this.client.close();
  }

  private publishMarkers(call: ClientReadableStream<Envelope>, live: () => boolean, attempt: number): void {
    if (this.call !== call || live()) return;
    if (attempt === MARKER_WARN_AFTER) {
      this.log?.warn('containerd event stream has not confirmed its subscription yet: container exits are found by relisting meanwhile');
    }
    const md = new Metadata();
    md.set('containerd-namespace', CRI_NAMESPACE);
    // Never an empty event: containerd 1.6 dereferences it.
    const event = { typeUrl: 'google.protobuf.Empty', value: Buffer.alloc(0) };
    this.client.publish({ topic: LIVE_MARKER_TOPIC, event }, md, { deadline: Date.now() + 5_000 }, (err) => {
      if (err && err.code !== status.UNAVAILABLE) this.log?.warn({ err: err.details }, 'publishing the event stream marker failed');
      const t = setTimeout(() => this.publishMarkers(call, live, attempt + 1), Math.min(MARKER_MAX_MS, MARKER_FIRST_MS * 2 ** Math.min(attempt, 5)));
      t.unref();
    });
  }

  private ended(call: ClientReadableStream<Envelope>, opened: boolean, e?: ServiceError): void {
    if (this.call !== call) return;
    this.call = undefined;
    if (this.closed || e?.code === status.CANCELLED) return;
    if (e?.code === status.UNIMPLEMENTED) {
      this.log?.info('container runtime has no events service: container exits are found by relisting only');
      return;
    }
    if (!opened) this.failures++;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
    if (this.failures <= 1 || this.failures % 10 === 0) {
      this.log?.warn({ err: e?.details ?? 'stream ended', retryMs: delay }, 'containerd event stream closed; relisting until it is back');
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, delay);
    this.timer.unref();
  }
}
