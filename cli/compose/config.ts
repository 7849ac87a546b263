// skiff compose config: the manifests `up` would apply, as multi-document YAML (users can keep
// them and `skiff apply -f` them), in apply order. Nothing is sent to the cluster.
import { stringify } from 'yaml';
import type { Ctx } from '../context.js';
import { prepare, type ComposeGlobals } from './project.js';
import { allManifests } from './translate/index.js';

export function composeConfig(ctx: Ctx, g: ComposeGlobals): Promise<number> {
  const { translation } = prepare(g, ctx.stderr);
  const docs = allManifests(translation).map((m) => `# from ${m.key}\n${stringify(m.json, { lineWidth: 0 })}`);
  ctx.stdout.write(docs.join('---\n'));
  return Promise.resolve(0);
}
