// skiff get TYPE[,TYPE] [NAME...] | TYPE/NAME...: tables like kubectl's, or -o json|yaml|name
// exactly as toManifest writes the objects. -w keeps watching: a live Ink table on a terminal,
// one line per event otherwise.
import { render } from 'ink';
import { errors } from '../../proto/api/errors.js';
import { unwrap, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import type { WatchEvent } from '../../proto/gen/skiff/v1/api.js';
import { consume } from '../client.js';
import { line, type Ctx } from '../context.js';
import { buildTable, tableRow, tableHeaders } from '../../proto/api/columns/columns.js';
import { formatObjects, toJson, toYaml, OUTPUT_FORMATS, type OutputFormat, type Typed } from '../render/output.js';
import { formatTable } from '../render/table.js';
import { toManifest } from '../../proto/api/manifest.js';
import { namespaceFor, qualifiedName, resolveType } from '../resources.js';
import { GetWatch, type WatchSubscribe } from '../views/GetWatch.js';

export interface GetOptions {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  allNamespaces?: boolean;
  watch?: boolean;
  noHeaders?: boolean;
}

export function parseOutput(o: string | undefined): OutputFormat {
  if (!o) return 'table';
  if ((OUTPUT_FORMATS as readonly string[]).includes(o)) return o as OutputFormat;
  throw errors.badRequest(`unknown output format "${o}"; use one of: ${OUTPUT_FORMATS.join(', ')}`);
}

interface Target {
  info: KindInfo;
  names: string[];
}

/** Reads the TYPE and NAME arguments: "pods", "deploy,rs", "deploy web api", "deploy/web po/x". */
export function parseTargets(args: readonly string[]): Target[] {
  const [first, ...rest] = args;
  if (!first) throw errors.badRequest(`you must specify the type of resource to get, e.g. "skiff get pods"`);
  if (first.includes('/')) {
    const out: Target[] = [];
    for (const a of args) {
      const i = a.indexOf('/');
      if (i <= 0 || i === a.length - 1) throw errors.badRequest(`"${a}" is not TYPE/NAME; do not mix TYPE/NAME with other forms`);
      const info = resolveType(a.slice(0, i));
      const t = out.find((x) => x.info === info);
      if (t) t.names.push(a.slice(i + 1));
      else out.push({ info, names: [a.slice(i + 1)] });
    }
    return out;
  }
  const infos = first.split(',').filter(Boolean).map(resolveType);
  if (infos.length > 1 && rest.length > 0) throw errors.badRequest('names can only be given with a single resource type');
  return infos.map((info) => ({ info, names: [...rest] }));
}

async function fetchTarget(ctx: Ctx, t: Target, opts: GetOptions): Promise<Typed[]> {
  const ns = opts.allNamespaces ? '' : namespaceFor(t.info, ctx.settings.namespace);
  if (t.names.length) {
    const out: Typed[] = [];
    for (const name of t.names) {
      const { info, value } = unwrap(await ctx.api().get({ kind: t.info.kind, namespace: namespaceFor(t.info, ctx.settings.namespace), name }));
      out.push({ info, object: value });
    }
    return out;
  }
  const list = await ctx.api().list({
    kind: t.info.kind, namespace: ns, labelSelector: opts.selector ?? '', fieldSelector: opts.fieldSelector ?? '',
  });
  return list.items.map((r) => {
    const { info, value } = unwrap(r);
    return { info, object: value };
  });
}

export async function getCommand(ctx: Ctx, args: readonly string[], opts: GetOptions): Promise<number> {
  const format = parseOutput(opts.output);
  const targets = parseTargets(args);
  if (opts.watch) {
    const [t, ...more] = targets;
    if (!t || more.length || t.names.length > 1) throw errors.badRequest('watch is only supported for one resource type and at most one name');
    return watchTarget(ctx, t, opts, format);
  }
  const results: { target: Target; items: Typed[] }[] = [];
  for (const t of targets) results.push({ target: t, items: await fetchTarget(ctx, t, opts) });
  const all = results.flatMap((r) => r.items);
  if (format === 'json' || format === 'yaml' || format === 'name') {
    const single = targets.length === 1 && targets[0]?.names.length === 1;
    ctx.stdout.write(formatObjects(format, all, !single));
    return 0;
  }
  if (all.length === 0) {
    line(ctx.stderr, noResources(ctx, targets, opts));
    return 0;
  }
  const blocks: string[] = [];
  const prefixNames = targets.length > 1;
  for (const { target, items } of results) {
    if (!items.length) continue;
    const table = buildTable(target.info, items.map((i) => i.object), {
      wide: format === 'wide', withNamespace: !!opts.allNamespaces && target.info.namespaced, now: ctx.now(),
    });
    if (prefixNames) {
      const nameCol = table.headers.indexOf('NAME');
      if (nameCol >= 0) for (const r of table.rows) r[nameCol] = `${qualifiedName(target.info)}/${r[nameCol] ?? ''}`;
    }
    blocks.push(formatTable(table, { noHeaders: opts.noHeaders }));
  }
  line(ctx.stdout, blocks.join('\n\n'));
  return 0;
}

function noResources(ctx: Ctx, targets: Target[], opts: GetOptions): string {
  if (opts.allNamespaces || !targets.some((t) => t.info.namespaced)) return 'No resources found';
  return `No resources found in ${ctx.settings.namespace} namespace.`;
}

function watchTarget(ctx: Ctx, t: Target, opts: GetOptions, format: OutputFormat): Promise<number> {
  const api = ctx.api();
  const name = t.names[0];
  const fieldSelector = [opts.fieldSelector, name ? `metadata.name=${name}` : ''].filter(Boolean).join(',');
  const namespace = opts.allNamespaces ? '' : namespaceFor(t.info, ctx.settings.namespace);
  const withNamespace = !!opts.allNamespaces && t.info.namespaced;
  const subscribe: WatchSubscribe = (onEvent, onError) => {
    const stream = api.watch({ kind: t.info.kind, namespace, labelSelector: opts.selector ?? '', fieldSelector });
    consume(api, stream, onEvent).then(
      () => onError(undefined),
      (e: unknown) => onError(api.error(e)),
    );
    return () => stream.cancel();
  };
  if (ctx.interactive && (format === 'table' || format === 'wide')) {
    return new Promise((resolve) => {
      let code = 0;
      const app = render(
        <GetWatch info={t.info} wide={format === 'wide'} withNamespace={withNamespace} subscribe={subscribe}
          onEnd={(e) => { if (e) { code = 1; line(ctx.stderr, `error (${e.code}): ${e.describe()}`); } }} />,
      );
      app.waitUntilExit().then(() => resolve(code), () => resolve(1));
    });
  }
  return new Promise((resolve) => {
    let headerDone = false;
    const onEvent = (ev: WatchEvent): void => {
      if (ev.type === 'BOOKMARK' || !ev.object) return;
      const { info, value } = unwrap(ev.object);
      printWatchEvent(ctx, info, value, format, { withNamespace, header: !headerDone && !opts.noHeaders });
      headerDone = true;
    };
    subscribe(onEvent, (e) => {
      if (e) line(ctx.stderr, `error (${e.code}): ${e.describe()}`);
      resolve(e ? 1 : 0);
    });
  });
}

function printWatchEvent(
  ctx: Ctx, info: KindInfo, o: AnyObject, format: OutputFormat, opts: { withNamespace: boolean; header: boolean },
): void {
  if (format === 'json') ctx.stdout.write(toJson(toManifest(info, o)));
  else if (format === 'yaml') ctx.stdout.write(`---\n${toYaml(toManifest(info, o))}`);
  else if (format === 'name') line(ctx.stdout, `${qualifiedName(info)}/${o.metadata?.name ?? ''}`);
  else {
    const topts = { wide: format === 'wide', withNamespace: opts.withNamespace, now: ctx.now() };
    const headers = tableHeaders(info, topts);
    const row = tableRow(info, o, topts);
    // Pad like the table would for the header's widths so lines stay roughly aligned.
    const text = formatTable({ headers, rows: [row] });
    line(ctx.stdout, opts.header ? text : (text.split('\n')[1] ?? ''));
  }
}
