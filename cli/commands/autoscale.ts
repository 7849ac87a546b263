// skiff autoscale deploy/NAME --min N --max N [--cpu-percent P] [--name NAME]: creates an
// autoscaling/v2 HorizontalPodAutoscaler for the Deployment, as kubectl autoscale does.
import { errors } from '../../proto/api/errors.js';
import { unwrap, wrap } from '../../proto/api/kinds.js';
import { HorizontalPodAutoscaler } from '../../proto/gen/skiff/v1/autoscaling.js';
import { line, type Ctx } from '../context.js';
import { displayRef, parseRef } from '../resources.js';

export interface AutoscaleOptions {
  min?: string;
  max?: string;
  cpuPercent?: string;
  name?: string;
}

function wholeNumber(flag: string, v: string, least: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < least) throw errors.badRequest(`${flag} must be a whole number >= ${least}, not "${v}"`);
  return n;
}

export async function autoscaleCommand(ctx: Ctx, args: readonly string[], opts: AutoscaleOptions): Promise<number> {
  const { info, name } = parseRef(args);
  if (info.kind !== 'Deployment') throw errors.badRequest(`cannot autoscale ${info.plural}; autoscale deployments`);
  if (opts.max === undefined) throw errors.badRequest('--max=MAXPODS is required and must be at least 1');
  const max = wholeNumber('--max', opts.max, 1);
  const min = opts.min !== undefined ? wholeNumber('--min', opts.min, 1) : undefined;
  if (min !== undefined && min > max) throw errors.badRequest(`--max=MAXPODS must be larger or equal to --min=MINPODS, max: ${max}, min: ${min}`);
  const cpu = opts.cpuPercent !== undefined ? wholeNumber('--cpu-percent', opts.cpuPercent, 1) : undefined;
  const namespace = ctx.settings.namespace;
  // Make sure the target exists, as kubectl does before it creates anything.
  await ctx.api().get({ kind: 'Deployment', namespace, name });
  const hpa = HorizontalPodAutoscaler.fromPartial({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: opts.name || name, namespace },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: min,
      maxReplicas: max,
      // Without --cpu-percent the server's default (80% CPU) applies.
      metrics: cpu !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }] : [],
    },
  });
  const created = unwrap(await ctx.api().create({ object: wrap('HorizontalPodAutoscaler', hpa), dryRun: false }));
  line(ctx.stdout, `${displayRef(created.info, created.value)} autoscaled`);
  return 0;
}
