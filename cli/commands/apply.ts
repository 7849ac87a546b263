// skiff apply -f FILE|DIR|- [--dry-run]: every document of one invocation goes to the server in
// ONE Apply call, so either all are applied (one etcd transaction) or, if one is invalid,
// none. The documents are checked locally first, so unknown kinds and type errors show even
// without a server.
import { unwrap } from '../../proto/api/kinds.js';
import { line, type Ctx } from '../context.js';
import { checkDocuments, loadManifests, setNamespaces, type ReadStdin } from '../manifests.js';
import { displayRef } from '../resources.js';

export interface ApplyOptions {
  filenames: string[];
  dryRun: boolean;
}

export async function applyCommand(ctx: Ctx, opts: ApplyOptions, readStdin?: ReadStdin): Promise<number> {
  const docs = checkDocuments(await loadManifests(opts.filenames, readStdin));
  setNamespaces(docs, ctx.settings.namespace, ctx.explicitNamespace);
  const res = await ctx.api().apply({
    documents: docs.map((d) => ({ manifest: JSON.stringify(d.json), source: d.source })),
    dryRun: opts.dryRun,
    fieldManager: 'skiff',
  });
  for (const r of res.results) {
    const { info, value } = unwrap(r.object);
    line(ctx.stdout, `${displayRef(info, value)} ${r.action}${opts.dryRun ? ' (dry run)' : ''}`);
  }
  return 0;
}
