// The one interface the node agent drives containers through, in the shape of Nomad's driver
// plugin: start returns a handle, wait/stop/destroy/inspect act on it, and handles are plain,
// versioned JSON the agent persists so it can re-attach (recover) after its own restart.
// Pods map onto CRI: a sandbox (network namespace, IP, host ports) holding containers.
// Implementations: cri/ (containerd over CRI runtime.v1) and fake/ (no containers: unit tests
// and simulated nodes). Both must pass the shared conformance suite in conformance.ts.

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  /** TCP, UDP or SCTP. */
  protocol: string;
  hostIP: string;
}

export interface SandboxConfig {
  /** Pod identity; the runtime labels what it creates with these so recover() can find it. */
  podUid: string;
  podName: string;
  podNamespace: string;
  /** Bumped each time the sandbox is re-created for the same pod. */
  attempt: number;
  hostNetwork: boolean;
  hostname: string;
  portMappings: PortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Directory under which the runtime writes container log files. */
  logDirectory: string;
  /** Pod-level cgroup limits (sum of container limits), 0 = none. */
  cpuMillisLimit: number;
  memoryBytesLimit: number;
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  /** Set when any container of the pod is privileged: the CRI refuses those in other sandboxes. */
  privileged?: boolean;
  /** The pod's resolver (CRI DNSConfig); absent: the runtime copies the node's resolv.conf. */
  dns?: SandboxDns;
}

export interface SandboxDns {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface SandboxHandle {
  version: 1;
  runtime: string;
  sandboxId: string;
  podUid: string;
  /** IP on the pod network ("" with host networking: the node's IP applies). */
  podIP: string;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readOnly: boolean;
}

export interface ImageAuth {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface ContainerConfig {
  name: string;
  /** Image reference as the pod spec names it. */
  image: string;
  command: string[];
  args: string[];
  env: { name: string; value: string }[];
  workingDir: string;
  mounts: Mount[];
  /** Restart count of this container in its pod (CRI metadata.attempt). */
  attempt: number;
  /** Log file path relative to the sandbox's logDirectory ("<name>/<attempt>.log"). */
  logPath: string;
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  /** securityContext.allowPrivilegeEscalation false: the process gets no_new_privs. */
  noNewPrivileges?: boolean;
  /** cgroup limits from resources.limits/requests; 0 = none. */
  cpuMillisLimit: number;
  cpuMillisRequest: number;
  memoryBytesLimit: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  tty: boolean;
  stdin: boolean;
}

export interface ContainerHandle {
  version: 1;
  runtime: string;
  sandboxId: string;
  containerId: string;
  name: string;
  attempt: number;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerInfo {
  state: ContainerState;
  /** Set once exited. */
  exitCode?: number;
  /** Completed, Error, OOMKilled, ... as Kubernetes reports them. */
  reason: string;
  message: string;
  /** ISO-8601 times, "" when not reached. */
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  /** Resolved image (digest or id) the container runs. */
  imageRef: string;
  /** Absolute path of the container's log file. */
  logPath: string;
}

export interface ExitResult {
  exitCode: number;
  reason: string;
  message: string;
  finishedAt: string;
  oomKilled: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** A running interactive exec: input in, output and the exit code out. */
export interface ExecSession {
  write(data: Buffer): void;
  /** No more input (the command sees end of file). */
  closeStdin(): void;
  resize(width: number, height: number): void;
  onOutput(fn: (channel: 1 | 2, data: Buffer) => void): void;
  /** The command's exit code once it has exited; rejects when the stream failed. */
  readonly exited: Promise<number>;
  /** Ends the session (the command gets a hang-up). */
  close(): void;
}

/**
 * Optional ability (a runtime may lack it): interactive exec over the runtime's streaming
 * server, CRI's Exec. The agent refuses `exec -i/-t` on a runtime without it.
 */
export interface StreamingExec {
  execStream(h: ContainerHandle, cmd: string[], opts: { tty: boolean; stdin: boolean }): Promise<ExecSession>;
}

export function canStreamExec(r: Runtime): r is Runtime & StreamingExec {
  return typeof (r as Partial<StreamingExec>).execStream === 'function';
}

export interface ContainerStats {
  cpuUsageNanoCores: number;
  cpuUsageCoreNanoSeconds: number;
  memoryWorkingSetBytes: number;
}

/** One container's cumulative reading, as CRI ListContainerStats returns it. */
export interface ContainerStatsSample extends ContainerStats {
  containerId: string;
  /** When the CPU figure was read, in ms since the epoch (fractional: CRI gives nanoseconds). */
  timestampMs: number;
}

/** What recover() found of the sandboxes and containers this runtime made on the node. */
export interface Discovered {
  sandboxes: { handle: SandboxHandle; ready: boolean; labels: Record<string, string> }[];
  containers: { handle: ContainerHandle; info: ContainerInfo; labels: Record<string, string> }[];
}

/** One of CRI's runtime conditions (RuntimeReady, NetworkReady), as the runtime reports it. */
export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export class RuntimeError extends Error {
  constructor(
    /** ErrImagePull, ImageNotFound, CreateContainerError, RunContainerError, NotFound, Unavailable, ... */
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

export interface Runtime {
  /** "cri" or "fake". */
  readonly name: string;
  version(): Promise<{ runtimeName: string; runtimeVersion: string }>;
  /**
   * CRI Status: the runtime's own conditions (RuntimeReady, NetworkReady). Rejects (RuntimeError
   * Unavailable/Timeout) when the runtime does not answer: the agent then reports the node
   * NotReady, as the kubelet's runtime health check does.
   */
  status(): Promise<RuntimeCondition[]>;
  /**
   * This node's pod range, once known (CRI UpdateRuntimeConfig, as the kubelet sends it when the
   * Node gets spec.podCIDR): containerd renders its CNI config from its conf_template with it.
   */
  updatePodCIDR(cidr: string): Promise<void>;

  /** Pulls unless present (policy decides); returns the image ref. Throws RuntimeError ErrImagePull. */
  ensureImage(image: string, policy: 'Always' | 'IfNotPresent' | 'Never', auth?: ImageAuth): Promise<string>;

  startSandbox(cfg: SandboxConfig): Promise<SandboxHandle>;
  /** Stops every container of the sandbox and tears down its network (releases the IP). */
  stopSandbox(h: SandboxHandle): Promise<void>;
  /** Removes the sandbox and what is left of its containers. Idempotent. */
  destroySandbox(h: SandboxHandle): Promise<void>;

  /** Creates and starts a container in the sandbox. */
  startContainer(sandbox: SandboxHandle, sandboxCfg: SandboxConfig, cfg: ContainerConfig): Promise<ContainerHandle>;
  /** Resolves when the container exits (immediately if it already has). */
  waitContainer(h: ContainerHandle, signal?: AbortSignal): Promise<ExitResult>;
  /** SIGTERM, then SIGKILL after timeoutSeconds. */
  stopContainer(h: ContainerHandle, timeoutSeconds: number): Promise<void>;
  /** Removes a stopped container. Idempotent. */
  destroyContainer(h: ContainerHandle): Promise<void>;
  inspectContainer(h: ContainerHandle): Promise<ContainerInfo>;
  exec(h: ContainerHandle, cmd: string[], timeoutSeconds: number): Promise<ExecResult>;
  stats(h: ContainerHandle): Promise<ContainerStats>;
  /**
   * Reopens the container's log file at its path (CRI ReopenContainerLog), after the agent
   * renamed the old one to rotate it; a container that is not running is an error.
   */
  reopenContainerLog(h: ContainerHandle): Promise<void>;
  /**
   * Cumulative CPU and memory readings of every running container this runtime made for the
   * node, in one call (CRI ListContainerStats); rates come from the difference of two readings.
   */
  listStats(): Promise<ContainerStatsSample[]>;

  /** Everything this runtime created for this node (by its labels), for re-attaching on start. */
  discover(): Promise<Discovered>;
  close(): Promise<void>;
}
