// skiff set image deploy/NAME CONTAINER=IMAGE... ("*=IMAGE" sets every container). A JSON patch
// that tests each container's name before replacing its image, so a concurrent change to the
// container list fails instead of setting the wrong container.
import { errors } from '../../proto/api/errors.js';
import { unwrap } from '../../proto/api/kinds.js';
import type { Container } from '../../proto/gen/skiff/v1/core.js';
import { line, type Ctx } from '../context.js';
import { displayRef, namespaceFor, parseRef } from '../resources.js';

interface Op {
  op: 'test' | 'replace';
  path: string;
  value: string;
}

export function imagePatch(containers: readonly Container[], assignments: readonly string[], base: string): Op[] {
  const ops: Op[] = [];
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0 || eq === a.length - 1) throw errors.badRequest(`"${a}" is not CONTAINER=IMAGE`);
    const cname = a.slice(0, eq);
    const image = a.slice(eq + 1);
    const idx = containers.flatMap((c, i) => (cname === '*' || c.name === cname ? [i] : []));
    if (!idx.length) {
      throw errors.badRequest(`unable to find container named "${cname}"; containers: ${containers.map((c) => c.name).join(', ')}`);
    }
    for (const i of idx) {
      ops.push({ op: 'test', path: `${base}/${i}/name`, value: containers[i]?.name ?? '' });
      ops.push({ op: 'replace', path: `${base}/${i}/image`, value: image });
    }
  }
  return ops;
}

export async function setImageCommand(ctx: Ctx, args: readonly string[]): Promise<number> {
  // Images hold '/' and ':' but references never hold '=': that tells them apart.
  const assignments = args.filter((a) => a.includes('='));
  const refs = args.filter((a) => !a.includes('='));
  if (!assignments.length) throw errors.badRequest('give at least one CONTAINER=IMAGE');
  const { info, name } = parseRef(refs);
  if (info.kind !== 'Deployment' && info.kind !== 'ReplicaSet' && info.kind !== 'Pod') {
    throw errors.badRequest(`cannot set the image of ${info.plural}`);
  }
  const namespace = namespaceFor(info, ctx.settings.namespace);
  const { value } = unwrap(await ctx.api().get({ kind: info.kind, namespace, name }));
  const spec = 'spec' in value ? value.spec : undefined;
  const containers = spec && 'template' in spec ? (spec.template?.spec?.containers ?? []) : spec && 'containers' in spec ? spec.containers : [];
  const base = info.kind === 'Pod' ? '/spec/containers' : '/spec/template/spec/containers';
  const ops = imagePatch(containers, assignments, base);
  await ctx.api().patch({ kind: info.kind, namespace, name, patchType: 'json', patch: JSON.stringify(ops) });
  line(ctx.stdout, `${displayRef(info, value)} image updated`);
  return 0;
}
