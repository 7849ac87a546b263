// Every key of a compose file is either translated (translate/*.ts), accepted with a warning
// because it does not change what runs (or has no meaning on Skiff), or refused with what to
// use instead. This table is the one place that decides; the README's Compose section mirrors it.
import type { ComposeFile, JsonMap } from './model.js';

export interface Diagnostic {
  level: 'error' | 'warning';
  /** Key path in the file, e.g. services.web.cap_add. */
  path: string;
  message: string;
}

type Policy = { do: 'translate' } | { do: 'warn'; why: string } | { do: 'refuse'; instead: string };
const T: Policy = { do: 'translate' };
const warn = (why: string): Policy => ({ do: 'warn', why });
const refuse = (instead: string): Policy => ({ do: 'refuse', instead });

const NO_CAPS = 'Skiff runs containers with the runtime default capabilities and security profile; remove it';

export const SERVICE_KEYS: Record<string, Policy> = {
  image: T, build: T, command: T, entrypoint: T, environment: T, env_file: T, working_dir: T, user: T,
  ports: T, expose: T, healthcheck: T, depends_on: T, deploy: T, restart: T, volumes: T, secrets: T,
  configs: T, scale: T, labels: T, annotations: T, hostname: T, stop_grace_period: T, tty: T,
  stdin_open: T, tmpfs: T, dns: T, dns_search: T, dns_opt: T, pull_policy: T, cpus: T, mem_limit: T,
  mem_reservation: T, network_mode: T, profiles: T,
  container_name: warn('Skiff names the pods itself (several replicas cannot share one name); other services reach it by its service name'),
  networks: warn('every service of a project is on one network and reaches the others by service name'),
  links: warn('every service is reachable by its service name already; link aliases are not created'),
  logging: warn('logs are kept by the node agent (skiff compose logs); the logging driver is not used'),
  platform: warn('images run on the node\'s platform'),
  init: warn('the entrypoint runs as the container\'s PID 1; handle SIGTERM in it'),
  attach: warn('`skiff compose up` follows the logs of every service'),
  stop_signal: refuse('Skiff stops containers with SIGTERM, then SIGKILL after stop_grace_period: handle SIGTERM in the image'),
  extends: refuse('inline the settings of the extended service (extends is not resolved)'),
  external_links: refuse('run the other container as a service of this project'),
  extra_hosts: refuse('add the names to a DNS server the pods use (dns:), or make them services of the project'),
  cap_add: refuse(NO_CAPS), cap_drop: refuse(NO_CAPS), security_opt: refuse(NO_CAPS),
  privileged: refuse('privileged containers are not supported'),
  read_only: refuse('a read-only root filesystem is not supported yet; remove it'),
  devices: refuse('devices are not passed to containers'),
  device_cgroup_rules: refuse('devices are not passed to containers'),
  gpus: refuse('GPUs are not scheduled by Skiff'),
  sysctls: refuse('sysctls are not set by Skiff'),
  ulimits: refuse('ulimits are not set by Skiff'),
  shm_size: refuse('mount a tmpfs at /dev/shm instead (tmpfs: [/dev/shm])'),
  ipc: refuse('containers of different services do not share namespaces'),
  pid: refuse('containers of different services do not share namespaces'),
  uts: refuse('containers of different services do not share namespaces'),
  userns_mode: refuse('user namespaces are not supported'),
  cgroup: refuse('cgroup namespaces follow the runtime default'),
  cgroup_parent: refuse('cgroups are placed by the node agent'),
  volumes_from: refuse('declare a named volume and mount it in both services'),
  domainname: refuse('pods get the cluster domain (cluster.local)'),
  mac_address: refuse('pod addresses come from the node\'s pod network'),
  oom_kill_disable: refuse('memory limits always apply (deploy.resources.limits.memory)'),
  oom_score_adj: refuse('the node agent sets OOM scores by QoS class'),
  memswap_limit: refuse('swap is not used; set deploy.resources.limits.memory'),
  mem_swappiness: refuse('swap is not used; set deploy.resources.limits.memory'),
  pids_limit: refuse('PID limits are not set by Skiff'),
  cpu_count: refuse('use deploy.resources.limits.cpus'), cpu_percent: refuse('use deploy.resources.limits.cpus'),
  cpu_shares: refuse('use deploy.resources.reservations.cpus'), cpu_period: refuse('use deploy.resources.limits.cpus'),
  cpu_quota: refuse('use deploy.resources.limits.cpus'), cpu_rt_period: refuse('real-time scheduling is not supported'),
  cpu_rt_runtime: refuse('real-time scheduling is not supported'), cpuset: refuse('use deploy.resources.limits.cpus'),
  blkio_config: refuse('block I/O limits are not set by Skiff'),
  storage_opt: refuse('storage options are not supported'),
  isolation: refuse('isolation is a Windows option'),
  credential_spec: refuse('credential specs are a Windows option'),
  runtime: refuse('every container runs with the node\'s runc'),
  label_file: refuse('use labels:'),
  post_start: refuse('postStart hooks are not supported; run the step in the entrypoint'),
  pre_stop: refuse('not translated yet; handle SIGTERM in the image'),
  develop: refuse('compose watch is not supported'),
  provider: refuse('provider services are not supported'),
  models: refuse('models are not supported'),
  use_api_socket: refuse('there is no Docker API socket on Skiff nodes'),
  group_add: refuse('supplementary groups are not set; use user: UID:GID'),
  pull_refresh_after: refuse('use pull_policy: always'),
};

const DEPLOY_KEYS: Record<string, Policy> = {
  mode: T, replicas: T, resources: T, update_config: T, restart_policy: T, placement: T, labels: T, endpoint_mode: T,
  rollback_config: warn('a rollback (update_config.failure_action: rollback) goes back to the previous revision with the Deployment\'s own strategy'),
};

export const TOP_KEYS: Record<string, Policy> = {
  name: T, services: T, volumes: T, secrets: T, configs: T,
  version: warn('the top-level `version` is obsolete and ignored (as in Docker Compose)'),
  networks: T,
  include: refuse('merge the included files into this one (include is not resolved)'),
  models: refuse('models are not supported'),
};

function check(map: JsonMap, table: Record<string, Policy>, base: string, out: Diagnostic[]): void {
  for (const key of Object.keys(map)) {
    if (key.startsWith('x-')) continue;
    const p = table[key];
    const path = base ? `${base}.${key}` : key;
    if (!p) out.push({ level: 'error', path, message: `is not supported by Skiff` });
    else if (p.do === 'warn') out.push({ level: 'warning', path, message: `ignored: ${p.why}` });
    else if (p.do === 'refuse') out.push({ level: 'error', path, message: `is not supported by Skiff: ${p.instead}` });
  }
}

/** Warnings and refusals for the keys of a validated file. */
export function checkKeys(model: ComposeFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  check(model as JsonMap, TOP_KEYS, '', out);
  for (const [name, net] of Object.entries(model.networks ?? {})) {
    if (name !== 'default') out.push({ level: 'warning', path: `networks.${name}`, message: 'ignored: every service of a project is on one network' });
    else if (net && typeof net === 'object' && Object.keys(net).length) out.push({ level: 'warning', path: 'networks.default', message: 'ignored: the pod network\'s settings come from the cluster' });
  }
  for (const [name, svc] of Object.entries(model.services ?? {})) {
    if (!svc) continue;
    const base = `services.${name}`;
    check(svc as JsonMap, SERVICE_KEYS, base, out);
    if (svc.deploy) check(svc.deploy as JsonMap, DEPLOY_KEYS, `${base}.deploy`, out);
  }
  return out;
}
