// skiff scale deploy/NAME --replicas N (a merge patch of spec.replicas).
import { errors } from '../../proto/api/errors.js';
import { line, type Ctx } from '../context.js';
import { displayRef, namespaceFor, parseRef } from '../resources.js';
import { unwrap } from '../../proto/api/kinds.js';

export async function scaleCommand(ctx: Ctx, args: readonly string[], replicas: string | undefined): Promise<number> {
  if (replicas === undefined) throw errors.badRequest('--replicas is required');
  const n = Number(replicas);
  if (!Number.isInteger(n) || n < 0) throw errors.badRequest(`--replicas must be a whole number >= 0, not "${replicas}"`);
  const { info, name } = parseRef(args);
  if (info.kind !== 'Deployment' && info.kind !== 'ReplicaSet') {
    throw errors.badRequest(`cannot scale ${info.plural}; scale deployments or replicasets`);
  }
  const res = await ctx.api().patch({
    kind: info.kind, namespace: namespaceFor(info, ctx.settings.namespace), name, patchType: 'merge',
    patch: JSON.stringify({ spec: { replicas: n } }),
  });
  const { value } = unwrap(res);
  line(ctx.stdout, `${displayRef(info, value)} scaled`);
  return 0;
}
