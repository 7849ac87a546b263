// The pods bound to this node, from the control plane: list, then watch from the list's
// resourceVersion (fieldSelector spec.nodeName=<node>, all namespaces), with list-watch.ts's
// resume, re-list and back-off rules.
import type { Logger } from 'pino';
import type { Pod } from '../proto/gen/skiff/v1/core.js';
import type { AgentApi } from './api-client.js';
import type { Clock } from '../proto/api/clock.js';
import { ListWatch, type ListWatchHandlers } from './list-watch.js';

export type PodHandlers = ListWatchHandlers<Pod>;

export class PodSource extends ListWatch<'Pod'> {
  constructor(api: AgentApi, nodeName: string, clock: Clock, log: Logger, h: PodHandlers) {
    super(api, { kind: 'Pod', what: 'pod', fieldSelector: `spec.nodeName=${nodeName}`, belongs: (p) => p.spec?.nodeName === nodeName }, clock, log, h);
  }
}
