// skiff token create|list|delete, as kubeadm's token commands: a bootstrap token is a Secret
// of type bootstrap.kubernetes.io/token in kube-system; an agent joins with "<id>.<secret>"
// (--bootstrap-token-file) and the control plane's approver signs its node certificate.
import {
  BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAP_TOKEN_SECRET_TYPE, bootstrapTokenData, bootstrapTokenInfo, bootstrapTokenSecretName,
  EXTRA_GROUP_PATTERN, generateBootstrapToken, parseBootstrapToken, TOKEN_ID_PATTERN,
} from '../../proto/api/bootstrap-token.js';
import { humanDuration } from '../../proto/api/columns/age.js';
import { errors } from '../../proto/api/errors.js';
import { unwrapAs, wrap } from '../../proto/api/kinds.js';
import { Secret } from '../../proto/gen/skiff/v1/config.js';
import { line, type Ctx } from '../context.js';
import { parseDuration } from '../duration.js';
import { formatTable } from '../render/table.js';

export interface TokenCreateOptions {
  /** Go duration; "0" never expires. kubeadm's default is 24h. */
  ttl: string;
  description?: string;
  /** Comma list of extra groups (each system:bootstrappers:...). */
  groups?: string;
}

/** The Secret `token create` writes. */
export function tokenSecret(id: string, secret: string, opts: TokenCreateOptions, now: Date): Secret {
  const ttlMs = parseDuration(opts.ttl, '--ttl');
  const extraGroups = (opts.groups ?? '').split(',').map((g) => g.trim()).filter(Boolean);
  for (const g of extraGroups) {
    if (!EXTRA_GROUP_PATTERN.test(g)) throw errors.badRequest(`--groups: "${g}" must match ${EXTRA_GROUP_PATTERN.source}`);
  }
  return Secret.fromPartial({
    apiVersion: 'v1', kind: 'Secret',
    metadata: { name: bootstrapTokenSecretName(id), namespace: BOOTSTRAP_TOKEN_NAMESPACE },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    stringData: bootstrapTokenData({
      id, secret, description: opts.description, extraGroups,
      expiration: ttlMs > 0 ? new Date(now.getTime() + ttlMs) : undefined,
    }),
  });
}

export async function tokenCreateCommand(ctx: Ctx, opts: TokenCreateOptions, given?: string): Promise<number> {
  let t = generateBootstrapToken();
  if (given) {
    const p = parseBootstrapToken(given);
    if (!p) throw errors.badRequest(`the token "${given}" must have the form [a-z0-9]{6}.[a-z0-9]{16}`);
    t = { ...p, token: given };
  }
  await ctx.api().create({ object: wrap('Secret', tokenSecret(t.id, t.secret, opts, new Date())), dryRun: false });
  line(ctx.stdout, t.token);
  return 0;
}

export async function tokenListCommand(ctx: Ctx, now = new Date()): Promise<number> {
  const res = await ctx.api().list({ kind: 'Secret', namespace: BOOTSTRAP_TOKEN_NAMESPACE });
  const rows: string[][] = [];
  for (const r of res.items) {
    const s = unwrapAs('Secret', r);
    if (s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) continue;
    const i = bootstrapTokenInfo(s.data);
    const ttl = i.expiration ? humanDuration(i.expiration.getTime() - now.getTime()) : '<forever>';
    const expires = i.expiration ? i.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z') : '<never>';
    rows.push([`${i.id}.<secret>`, ttl, expires, i.usages.join(','), i.description || '<none>', i.extraGroups.join(',') || '<none>']);
  }
  if (rows.length === 0) {
    line(ctx.stdout, 'No bootstrap tokens.');
    return 0;
  }
  line(ctx.stdout, formatTable({ headers: ['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS'], rows }));
  return 0;
}

export async function tokenDeleteCommand(ctx: Ctx, ids: readonly string[]): Promise<number> {
  for (const given of ids) {
    // kubeadm takes the id or the whole token.
    const id = parseBootstrapToken(given)?.id ?? given;
    if (!TOKEN_ID_PATTERN.test(id)) throw errors.badRequest(`"${given}" is neither a token id ([a-z0-9]{6}) nor a token`);
    await ctx.api().delete({ kind: 'Secret', namespace: BOOTSTRAP_TOKEN_NAMESPACE, name: bootstrapTokenSecretName(id) });
    line(ctx.stdout, `bootstrap token "${id}" deleted`);
  }
  return 0;
}
