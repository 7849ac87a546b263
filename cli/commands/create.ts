// skiff create configmap|secret generic|secret docker-registry NAME ... (kubectl's generators):
// builds the object from the flags and creates it; -o yaml|json prints it instead of the
// usual "configmap/NAME created" line, --dry-run validates on the server without writing.
import { errors } from '../../proto/api/errors.js';
import { emptyMeta, KINDS, unwrap, wrap } from '../../proto/api/kinds.js';
import type { ConfigMap, Secret } from '../../proto/gen/skiff/v1/config.js';
import { dockerConfigJson, isUtf8, readDataSources, type DataSources } from '../config-data.js';
import { line, type Ctx } from '../context.js';
import { formatObjects } from '../render/output.js';
import { displayRef } from '../resources.js';

export interface CreateOutput {
  dryRun: boolean;
  output?: string;
}

export const DEFAULT_DOCKER_SERVER = 'https://index.docker.io/v1/';

async function send(ctx: Ctx, kind: 'ConfigMap' | 'Secret', o: ConfigMap | Secret, out: CreateOutput): Promise<number> {
  if (out.output && out.output !== 'yaml' && out.output !== 'json' && out.output !== 'name') {
    throw errors.badRequest(`-o ${out.output}: supported: yaml, json, name`);
  }
  const res = await ctx.api().create({ object: wrap(kind, o as never), dryRun: out.dryRun });
  const { info, value } = unwrap(res);
  if (out.output) ctx.stdout.write(formatObjects(out.output as 'yaml' | 'json' | 'name', [{ info, object: value }], false));
  else line(ctx.stdout, `${displayRef(info, value)} created${out.dryRun ? ' (server dry run)' : ''}`);
  return 0;
}

function meta(ctx: Ctx, name: string) {
  if (!name) throw errors.badRequest('a NAME is required');
  return { ...emptyMeta(), name, namespace: ctx.settings.namespace };
}

export async function createConfigMap(ctx: Ctx, name: string, src: DataSources, out: CreateOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const data: Record<string, string> = {};
  const binaryData: Record<string, Buffer> = {};
  for (const [k, v] of await readDataSources(src, env)) {
    if (isUtf8(v)) data[k] = v.toString('utf8');
    else binaryData[k] = v;
  }
  const cm: ConfigMap = { apiVersion: KINDS.ConfigMap.apiVersion, kind: 'ConfigMap', metadata: meta(ctx, name), data, binaryData, immutable: undefined };
  return send(ctx, 'ConfigMap', cm, out);
}

export async function createSecretGeneric(ctx: Ctx, name: string, src: DataSources & { type?: string }, out: CreateOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const s: Secret = {
    apiVersion: 'v1', kind: 'Secret', metadata: meta(ctx, name), data: Object.fromEntries(await readDataSources(src, env)),
    stringData: {}, type: src.type || 'Opaque', immutable: undefined,
  };
  return send(ctx, 'Secret', s, out);
}

export async function createSecretDockerRegistry(
  ctx: Ctx,
  name: string,
  o: { dockerServer?: string; dockerUsername?: string; dockerPassword?: string; dockerEmail?: string },
  out: CreateOutput,
): Promise<number> {
  if (!o.dockerUsername) throw errors.badRequest('--docker-username is required');
  if (o.dockerPassword === undefined) throw errors.badRequest('--docker-password is required');
  const json = dockerConfigJson({ server: o.dockerServer || DEFAULT_DOCKER_SERVER, username: o.dockerUsername, password: o.dockerPassword, email: o.dockerEmail });
  const s: Secret = {
    apiVersion: 'v1', kind: 'Secret', metadata: meta(ctx, name), data: { '.dockerconfigjson': Buffer.from(json) },
    stringData: {}, type: 'kubernetes.io/dockerconfigjson', immutable: undefined,
  };
  return send(ctx, 'Secret', s, out);
}
