// The compose file as the translator reads it, after interpolation and schema validation
// (so the shapes below hold). Only the fields Skiff looks at are typed; anything else is
// checked by keys.ts before translation.
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonMap = { [k: string]: Json };

export type ListOrDict = string[] | Record<string, string | number | boolean | null>;

export interface HealthcheckSpec {
  test?: string | string[];
  interval?: string;
  timeout?: string;
  retries?: number | string;
  start_period?: string;
  start_interval?: string;
  disable?: boolean | string;
}

export interface DependsOnSpec {
  condition?: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  required?: boolean;
  restart?: boolean | string;
}

export interface PortLong {
  target: number | string;
  published?: number | string;
  protocol?: string;
  host_ip?: string;
  mode?: string;
  name?: string;
  app_protocol?: string;
}

export interface VolumeLong {
  type: 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  source?: string;
  target?: string;
  read_only?: boolean | string;
  [k: string]: unknown;
}

export interface FileRef {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number | string;
}

export interface ServiceSpec {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; args?: ListOrDict; target?: string; [k: string]: unknown };
  command?: string | string[] | null;
  entrypoint?: string | string[] | null;
  environment?: ListOrDict;
  env_file?: string | (string | { path: string; required?: boolean | string })[];
  working_dir?: string;
  user?: string;
  ports?: (string | number | PortLong)[];
  expose?: (string | number)[];
  healthcheck?: HealthcheckSpec;
  depends_on?: string[] | Record<string, DependsOnSpec>;
  deploy?: DeploySpec | null;
  restart?: string;
  volumes?: (string | VolumeLong)[];
  secrets?: (string | FileRef)[];
  configs?: (string | FileRef)[];
  scale?: number | string;
  labels?: ListOrDict;
  annotations?: ListOrDict;
  hostname?: string;
  stop_grace_period?: string;
  tty?: boolean | string;
  stdin_open?: boolean | string;
  tmpfs?: string | string[];
  dns?: string | string[];
  dns_search?: string | string[];
  dns_opt?: string[];
  network_mode?: string;
  pull_policy?: string;
  cpus?: number | string;
  mem_limit?: number | string;
  mem_reservation?: number | string;
  profiles?: string[];
  [k: string]: unknown;
}

export interface DeploySpec {
  mode?: string;
  replicas?: number | string;
  endpoint_mode?: string;
  labels?: ListOrDict;
  resources?: {
    limits?: { cpus?: number | string; memory?: string; pids?: number | string };
    reservations?: { cpus?: number | string; memory?: string; devices?: unknown[]; generic_resources?: unknown[] };
  };
  update_config?: { parallelism?: number | string; delay?: string; order?: string; failure_action?: string; monitor?: string; max_failure_ratio?: number | string };
  rollback_config?: unknown;
  restart_policy?: { condition?: string; delay?: string; max_attempts?: number | string; window?: string };
  placement?: { constraints?: string[]; preferences?: unknown[]; max_replicas_per_node?: number | string };
  [k: string]: unknown;
}

export interface TopFile {
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean | string;
  name?: string;
  [k: string]: unknown;
}

export interface ComposeFile {
  name?: string;
  version?: string;
  services?: Record<string, ServiceSpec | null>;
  volumes?: Record<string, { driver?: string; driver_opts?: Record<string, string>; external?: boolean | string; name?: string; labels?: ListOrDict } | null>;
  secrets?: Record<string, TopFile>;
  configs?: Record<string, TopFile>;
  networks?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A loaded project: the file, where it lives and what the environment gave it. */
export interface Project {
  name: string;
  /** Kubernetes namespace of the project (the name as a DNS label). */
  namespace: string;
  file: string;
  /** The compose file's directory: relative paths (build, env_file, binds, secrets) resolve here. */
  dir: string;
  model: ComposeFile;
  /** Variables for interpolation and `environment: [NAME]` (the process environment over .env). */
  env: (name: string) => string | undefined;
}

export function listOrDict(v: ListOrDict | undefined): [string, string | undefined][] {
  if (!v) return [];
  if (Array.isArray(v)) {
    return v.map((e) => {
      const i = e.indexOf('=');
      return i < 0 ? [e, undefined] : [e.slice(0, i), e.slice(i + 1)];
    });
  }
  return Object.entries(v).map(([k, x]) => [k, x === null ? undefined : String(x)]);
}

export function truthy(v: boolean | string | undefined): boolean {
  return v === true || v === 'true' || v === 'True' || v === 'yes';
}
