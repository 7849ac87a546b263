// skiff config view|set-server|set-token|set-namespace: edits ~/.skiff/config.yaml (0600).
import { stringify } from 'yaml';
import { errors } from '../../proto/api/errors.js';
import { configPath, readConfig, resolveSettings, writeConfig, type ConfigFile, type Overrides } from '../config.js';
import { line, type Output } from '../context.js';

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
