// skiff config view|set-server|set-token|set-namespace: edits ~/.skiff/config.yaml (0600);
// skiff config kubeconfig writes a kubeconfig for kubectl.
import { stringify } from 'yaml';
import { errors } from '../../proto/api/errors.js';
import { configPath, readConfig, resolveSettings, resolveTls, writeConfig, type ConfigFile, type Overrides } from '../config.js';
import { join } from 'node:path';
import { line, type Output } from '../context.js';
import { kubeconfigYaml, readCaIfPresent, restServerFor, writeKubeconfig } from '../kubeconfig.js';
import { defaultStateDir } from '../up/layout.js';

export async function configView(out: Output, flags: Overrides, env: NodeJS.ProcessEnv, raw: boolean): Promise<number> {
  const path = configPath(env);
  const file = await readConfig(path);
  const s = resolveSettings(flags, env, file);
  const token = s.token ? (raw ? s.token : 'REDACTED') : '';
  line(out, `# ${path}`);
  out.write(stringify({
    server: s.server,
    token,
    namespace: s.namespace,
    from: { server: s.origin.server, token: s.origin.token, namespace: s.origin.namespace },
  }));
  return 0;
}

export async function configSet(out: Output, env: NodeJS.ProcessEnv, key: Exclude<keyof ConfigFile, 'servers'>, value: string | undefined): Promise<number> {
  if (value === undefined || value === '') throw errors.badRequest(`give a value: skiff config set-${key} VALUE`);
  const path = configPath(env);
  const cfg = await readConfig(path);
  cfg[key] = value;
  // set-server with a comma list keeps the list as `servers:`; one address replaces any list.
  if (key === 'server') {
    const list = value.split(',').map((x) => x.trim()).filter(Boolean);
    delete cfg.server;
    delete cfg.servers;
    if (list.length > 1) cfg.servers = list;
    else cfg.server = value;
  }
  await writeConfig(path, cfg);
  line(out, key === 'token' ? `token set in ${path}` : `${key} set to "${value}" in ${path}`);
  return 0;
}

export interface KubeconfigFlags extends Overrides {
  restServer?: string;
  output?: string;
}

/**
 * skiff config kubeconfig: a kubeconfig for this CLI's cluster. The REST API serves the gRPC
 * API's certificate, so the CA is this CLI's own (--certificate-authority, config
 * certificate-authority[-data]), else the self-signed one a control plane keeps in `skiff up`'s
 * state dir when present.
 */
export async function configKubeconfig(out: Output, err: Output, flags: KubeconfigFlags, env: NodeJS.ProcessEnv): Promise<number> {
  const file = await readConfig(configPath(env));
  const s = resolveSettings(flags, env, file);
  const caPath = join(defaultStateDir(env), 'pki', 'apiserver.crt');
  const ca = (await resolveTls(flags, env, file)).ca || await readCaIfPresent(caPath);
  if (!ca) line(err, `no CA configured and none at ${caPath}: the kubeconfig skips TLS verification (give --certificate-authority FILE)`);
  const k = { server: flags.restServer ?? restServerFor(s.server), token: s.token, namespace: s.namespace, ca };
  if (flags.output) {
    await writeKubeconfig(flags.output, k);
    line(out, `wrote ${flags.output}; use it with: export KUBECONFIG=${flags.output}`);
  } else out.write(kubeconfigYaml(k));
  return 0;
}
