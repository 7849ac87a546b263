// skiff auth can-i / whoami, as kubectl auth: one SelfSubjectAccessReview or SelfSubjectReview
// call; the answer is the server's authorizer's, so it matches what the real calls would get.
import { stringify } from 'yaml';
import { errors } from '../../proto/api/errors.js';
import { groupResource } from '../../proto/api/group-resource.js';
import { lookupKind } from '../../proto/api/kinds.js';
import type { ResourceAttributes } from '../../proto/gen/skiff/v1/rbac.js';
import { line, type Ctx } from '../context.js';
import { formatTable } from '../render/table.js';

/** RESOURCE as kubectl takes it: a kind alias ("deploy"), "plural.group", or any name ("users", "*"). */
export function resolveResource(text: string): { group: string; resource: string; namespaced: boolean } {
  const info = lookupKind(text);
  if (info) {
    const { apiGroup, resource } = groupResource(info);
    return { group: apiGroup, resource, namespaced: info.namespaced };
  }
  const dot = text.indexOf('.');
  if (dot > 0) {
    const known = lookupKind(text.slice(0, dot));
    return { group: text.slice(dot + 1), resource: known?.plural ?? text.slice(0, dot), namespaced: known?.namespaced ?? true };
  }
  return { group: '', resource: text, namespaced: true };
}

export interface CanIOptions {
  allNamespaces: boolean;
  subresource?: string;
  quiet: boolean;
}

/** The review kubectl sends for `can-i VERB TYPE[/NAME] [NAME]` (a path: a non-resource URL). */
export function canIRequest(verb: string, what: string, name: string | undefined, namespace: string, opts: CanIOptions): { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: { path: string; verb: string } } {
  if (what.startsWith('/')) return { nonResourceAttributes: { path: what, verb } };
  const [type = '', inline] = what.split('/', 2);
  if (inline && name) throw errors.badRequest(`give the name once: "${what}" already names "${inline}"`);
  const r = resolveResource(type);
  return {
    resourceAttributes: {
      verb, group: r.group, version: '', resource: r.resource, subresource: opts.subresource ?? '',
      name: inline ?? name ?? '', namespace: r.namespaced && !opts.allNamespaces ? namespace : '',
    },
  };
}

export async function canICommand(ctx: Ctx, verb: string, what: string, name: string | undefined, opts: CanIOptions): Promise<number> {
  const status = await ctx.api().selfSubjectAccessReview(canIRequest(verb, what, name, ctx.settings.namespace, opts));
  if (!opts.quiet) line(ctx.stdout, status.allowed ? 'yes' : `no${status.reason ? ` - ${status.reason}` : ''}`);
  return status.allowed ? 0 : 1;
}

export async function whoAmICommand(ctx: Ctx, output: string | undefined): Promise<number> {
  const u = await ctx.api().whoAmI();
  if (output === 'json' || output === 'yaml') {
    const doc = { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', status: { userInfo: { username: u.username, groups: u.groups } } };
    ctx.stdout.write(output === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc));
    return 0;
  }
  if (output) throw errors.badRequest(`unknown output format "${output}"; use json or yaml`);
  line(ctx.stdout, formatTable({ headers: ['ATTRIBUTE', 'VALUE'], rows: [['Username', u.username], ['Groups', `[${u.groups.join(' ')}]`]] }));
  return 0;
}
