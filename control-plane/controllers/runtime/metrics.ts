// Controller metrics, in one registry the control-plane program exposes. Metrics are created
// once per process (module scope), so importing this file from many controllers or tests never
// registers a name twice.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const controllerRegistry = new Registry();

export type ReconcileResult = 'success' | 'error' | 'requeue_after' | 'terminal';

export const reconcileTotal = new Counter<'controller' | 'result'>({
  name: 'skiff_controller_reconcile_total',
  help: 'Reconciliations by controller and result (success, error, requeue_after, terminal).',
  labelNames: ['controller', 'result'],
  registers: [controllerRegistry],
});

export const reconcileDuration = new Histogram<'controller'>({
  name: 'skiff_controller_reconcile_duration_seconds',
  help: 'Time one reconciliation took.',
  labelNames: ['controller'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [controllerRegistry],
});

export const queueDepth = new Gauge<'controller'>({
  name: 'skiff_controller_queue_depth',
  help: 'Keys waiting in the controller work queue.',
  labelNames: ['controller'],
  registers: [controllerRegistry],
});
