// skiff top nodes|pods [-n NS|-A] [-l SEL] [--containers]: kubectl top over the metrics API
// (PodMetrics and NodeMetrics, read from the node agents' latest samples).
import { errors } from '../../proto/api/errors.js';
import { unwrapAs } from '../../proto/api/kinds.js';
import { line, type Ctx } from '../context.js';
import { formatTable } from '../render/table.js';
import { topNodesTable, topPodsTable } from '../../proto/api/columns/top.js';

export interface TopOptions {
  selector?: string;
  allNamespaces?: boolean;
  containers?: boolean;
  noHeaders?: boolean;
}

export async function topCommand(ctx: Ctx, what: string, opts: TopOptions): Promise<number> {
  const api = ctx.api();
  const table = await (async () => {
    if (['nodes', 'node', 'no'].includes(what)) {
      const metrics = (await api.list({ kind: 'NodeMetrics', namespace: '', labelSelector: opts.selector ?? '', fieldSelector: '', resourceVersion: '' })).items
        .map((r) => unwrapAs('NodeMetrics', r));
      if (metrics.length === 0) throw errors.unavailable('metrics not available yet');
      const nodes = (await api.list({ kind: 'Node', namespace: '', labelSelector: '', fieldSelector: '', resourceVersion: '0' })).items.map((r) => unwrapAs('Node', r));
      return topNodesTable(metrics, nodes);
    }
    if (['pods', 'pod', 'po'].includes(what)) {
      const namespace = opts.allNamespaces ? '' : ctx.settings.namespace;
      const metrics = (await api.list({ kind: 'PodMetrics', namespace, labelSelector: opts.selector ?? '', fieldSelector: '', resourceVersion: '' })).items
        .map((r) => unwrapAs('PodMetrics', r));
      if (metrics.length === 0) throw errors.unavailable(opts.allNamespaces ? 'metrics not available yet' : `metrics not available yet in ${namespace} namespace`);
      return topPodsTable(metrics, { withNamespace: !!opts.allNamespaces, containers: !!opts.containers });
    }
    throw errors.badRequest(`top: unknown resource "${what}"; use nodes or pods`);
  })();
  line(ctx.stdout, formatTable(table, { noHeaders: opts.noHeaders }));
  return 0;
}
