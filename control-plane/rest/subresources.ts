// Subresources: deployments|replicasets/scale (autoscaling/v1 Scale), pods/eviction
// (policy/v1 Eviction) and pods/log (plain text, streamed with follow). status goes through
// the object verbs with subresource "status".
import type { IncomingMessage, ServerResponse } from 'node:http';
import { selectorText } from '../../proto/api/columns/columns.js';
import { errors } from '../../proto/api/errors.js';
import { metaOf, type AnyObject } from '../../proto/api/kinds.js';
import type { JsonObject } from '../../proto/api/manifest.js';
import type { Deployment, ReplicaSet } from '../../proto/gen/skiff/v1/apps.js';
import type { LogChunk } from '../../proto/gen/skiff/v1/api.js';
import { applyPatchText, updateWith } from '../api/crud.js';
import type { ApiContext } from '../api/context.js';
import { evictPod } from '../api/eviction/evict.js';
import { streamLogs } from '../api/logs.js';
import { boolParam, dryRunOf, intParam, readBody, readJsonBody } from './http.js';
import { getObject, patchTypeOf, type ObjectTarget } from './resources.js';
import { successStatus } from './status.js';

type Scalable = Deployment | ReplicaSet;

export function scaleOf(o: AnyObject): JsonObject {
  const s = o as Scalable;
  const m = metaOf(o);
  const sel = selectorText(s.spec?.selector);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: s.spec?.replicas ?? 0 },
    status: { replicas: s.status?.replicas ?? 0, selector: sel === '<none>' ? '' : sel },
  };
}

function replicasOf(doc: unknown): { replicas: number; resourceVersion: string } {
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as { spec?: { replicas?: unknown }; metadata?: { resourceVersion?: unknown } };
  const r = d.spec?.replicas ?? 0;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) {
    throw errors.invalid('Scale', '', [{ field: 'spec.replicas', message: `must be a non-negative integer, got ${JSON.stringify(r)}`, source: '' }]);
  }
  const rv = d.metadata?.resourceVersion;
  return { replicas: r, resourceVersion: typeof rv === 'string' ? rv : '' };
}

async function writeReplicas(ctx: ApiContext, t: ObjectTarget, replicas: number, rv: string, dryRun: boolean): Promise<JsonObject> {
  const o = await updateWith(ctx, t.info, t.namespace, t.name, rv, (cur) => {
    const s = cur as Scalable;
    if (!s.spec) throw errors.badRequest(`${t.info.kind} "${t.name}" has no spec`);
    s.spec.replicas = replicas;
    return cur;
  }, { dryRun });
  return scaleOf(o);
}

export async function putScale(ctx: ApiContext, t: ObjectTarget, req: IncomingMessage, q: URLSearchParams): Promise<JsonObject> {
  const { replicas, resourceVersion } = replicasOf(await readJsonBody(req));
  return writeReplicas(ctx, t, replicas, resourceVersion, dryRunOf(q.getAll('dryRun')));
}

export async function patchScale(ctx: ApiContext, t: ObjectTarget, req: IncomingMessage, q: URLSearchParams): Promise<JsonObject> {
  const type = patchTypeOf(req.headers['content-type']);
  const text = await readBody(req);
  const current = scaleOf(await getObject(ctx, t));
  // Scale has no lists, so a strategic merge patch of it is a merge patch.
  const patched = applyPatchText(t.info, type === 'strategic' ? 'merge' : type, current, text);
  const { replicas, resourceVersion } = replicasOf(patched);
  const rv = resourceVersion !== (current.metadata as { resourceVersion: string }).resourceVersion ? resourceVersion : '';
  return writeReplicas(ctx, t, replicas, rv, dryRunOf(q.getAll('dryRun')));
}

export async function evict(ctx: ApiContext, t: ObjectTarget, req: IncomingMessage, q: URLSearchParams): Promise<JsonObject> {
  const body = (await readJsonBody(req)) as { kind?: unknown; metadata?: { name?: unknown }; deleteOptions?: { gracePeriodSeconds?: unknown; dryRun?: unknown } };
  if (body.kind !== 'Eviction') throw errors.badRequest(`expected an Eviction (policy/v1), got kind ${JSON.stringify(body.kind)}`);
  if (body.metadata?.name !== undefined && body.metadata.name !== t.name) throw errors.badRequest('the name of the Eviction does not match the pod on the URL');
  const grace = body.deleteOptions?.gracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace))) {
    throw errors.invalid('Eviction', t.name, [{ field: 'deleteOptions.gracePeriodSeconds', message: 'must be an integer', source: '' }]);
  }
  const dryRunList = Array.isArray(body.deleteOptions?.dryRun) ? (body.deleteOptions.dryRun as unknown[]).map(String) : [];
  await evictPod(ctx, {
    namespace: t.namespace, name: t.name, gracePeriodSeconds: grace,
    dryRun: dryRunOf([...q.getAll('dryRun'), ...dryRunList]),
  });
  return successStatus({}, 201);
}

/** kubelet's timestamp form: RFC 3339 with nanoseconds, first on each line. */
const TIMESTAMPED = /^(\S+) (.*)$/s;

/**
 * pods/log: container, follow, tailLines, previous, timestamps from the agent; sinceSeconds and
 * sinceTime by asking the agent for timestamps and keeping the lines from then on.
 */
export async function podLogs(ctx: ApiContext, t: ObjectTarget, q: URLSearchParams, res: ServerResponse): Promise<void> {
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime) throw errors.badRequest('at most one of sinceSeconds and sinceTime may be set');
  if (sinceSeconds !== undefined && sinceSeconds <= 0) throw errors.badRequest('sinceSeconds must be greater than 0');
  const since = sinceSeconds !== undefined ? ctx.now().getTime() - sinceSeconds * 1000 : sinceTime ? Date.parse(sinceTime) : undefined;
  if (since !== undefined && Number.isNaN(since)) throw errors.badRequest(`sinceTime "${sinceTime ?? ''}" is not an RFC 3339 time`);
  const tail = intParam(q, 'tailLines');
  if (tail !== undefined && tail < 0) throw errors.badRequest('tailLines must be >= 0');
  const follow = boolParam(q, 'follow');
  const timestamps = boolParam(q, 'timestamps');
  if (since !== undefined && tail !== undefined && follow) {
    throw errors.badRequest('tailLines together with sinceSeconds/sinceTime and follow is not supported by Skiff; drop one of them');
  }
  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  };
  const filter = (data: Buffer): Buffer => {
    if (since === undefined) return data;
    const lines = data.toString('utf8').split('\n').filter(Boolean);
    const kept: string[] = [];
    for (const line of lines) {
      const m = TIMESTAMPED.exec(line);
      if (!m || Date.parse(m[1]!) < since) continue;
      kept.push(timestamps ? line : m[2]!);
    }
    return Buffer.from(kept.map((l) => `${l}\n`).join(''));
  };
  // With since and tail (not following), the tail is taken after the time filter.
  const buffered: Buffer[] | undefined = since !== undefined && tail !== undefined ? [] : undefined;
  await streamLogs(ctx, {
    namespace: t.namespace, pod: t.name, container: q.get('container') ?? '', follow,
    tailLines: since !== undefined ? -1 : (tail ?? -1), previous: boolParam(q, 'previous'), timestamps: timestamps || since !== undefined,
  }, {
    write: (chunk: LogChunk) => {
      const data = filter(Buffer.from(chunk.data));
      if (buffered) {
        buffered.push(data);
        return true;
      }
      start();
      return data.length === 0 || res.write(data);
    },
    onceDrain: (cb) => res.once('drain', cb),
    onCancel: (cb) => res.on('close', cb),
  });
  start();
  if (buffered) {
    const lines = Buffer.concat(buffered).toString('utf8').split('\n').filter(Boolean);
    res.write(lines.slice(Math.max(0, lines.length - (tail ?? 0))).map((l) => `${l}\n`).join(''));
  }
  res.end();
}
