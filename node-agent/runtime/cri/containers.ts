// Containers over CRI: create + start in a sandbox, status, wait (polled: the CRI has no wait
// call), stop with grace, remove, exec and stats.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  ContainerConfig as CriContainerConfig,
  ContainerState as CriState,
  NamespaceMode,
  type ContainerStatus,
  type LinuxContainerResources,
} from '../../../proto/gen/runtime/v1/api.js';
import {
  RuntimeError,
  type ContainerConfig,
  type ContainerInfo,
  type ContainerState,
  type ContainerStats,
  type ContainerStatsSample,
  type ExecResult,
  type ExitResult,
  type SandboxConfig,
} from '../runtime.js';
import { containerLabels, nanosToIso } from '../labels.js';
import { criError, isNotFound, type CriClient } from './client.js';
import { imageStatus } from './images.js';
import { podSandboxConfig } from './sandbox.js';

/** Kubernetes' MilliCPUToShares: 1024 shares per CPU, at least 2. */
export function cpuShares(millis: number): number {
  return millis <= 0 ? 2 : Math.max(2, Math.floor((millis * 1024) / 1000));
}

export function linuxResources(cfg: ContainerConfig): Partial<LinuxContainerResources> {
  return {
    cpuPeriod: cfg.cpuMillisLimit > 0 ? 100_000 : 0,
    // Kubernetes' MilliCPUToQuota, with its 1 ms minimum.
    cpuQuota: cfg.cpuMillisLimit > 0 ? Math.max(1000, cfg.cpuMillisLimit * 100) : 0,
    cpuShares: cpuShares(cfg.cpuMillisRequest || cfg.cpuMillisLimit),
    memoryLimitInBytes: cfg.memoryBytesLimit,
  };
}

/** The user to run as, checked against runAsNonRoot the way the kubelet does. */
async function securityUser(
  c: CriClient,
  sb: SandboxConfig,
  cfg: ContainerConfig,
): Promise<{ runAsUser?: { value: number }; runAsUsername: string; runAsGroup?: { value: number } }> {
  const uid = cfg.runAsUser ?? sb.runAsUser;
  const gid = cfg.runAsGroup ?? sb.runAsGroup;
  if (uid !== undefined) {
    if (cfg.runAsNonRoot && uid === 0) throw new RuntimeError('CreateContainerConfigError', `container ${cfg.name}: runAsNonRoot and runAsUser is 0`);
    return { runAsUser: { value: uid }, runAsUsername: '', runAsGroup: gid !== undefined ? { value: gid } : undefined };
  }
  if (!cfg.runAsNonRoot && gid === undefined) return { runAsUsername: '' };
  // No uid given: the image's user applies; the CRI needs it named to add a group.
  const img = await imageStatus(c, cfg.image);
  const imageUid = img?.uid?.value;
  const imageUser = img?.username ?? '';
  if (cfg.runAsNonRoot) {
    if (imageUid === undefined && imageUser) {
      throw new RuntimeError('CreateContainerConfigError', `container ${cfg.name}: image has non-numeric user (${imageUser}), cannot verify user is non-root`);
    }
    if ((imageUid ?? 0) === 0) throw new RuntimeError('CreateContainerConfigError', `container ${cfg.name}: runAsNonRoot and image will run as root`);
  }
  const group = gid !== undefined ? { value: gid } : undefined;
  if (imageUid !== undefined) return { runAsUser: { value: imageUid }, runAsUsername: '', runAsGroup: group };
  if (imageUser) return { runAsUsername: imageUser, runAsGroup: group };
  return { runAsUser: { value: 0 }, runAsUsername: '', runAsGroup: group };
}

export async function createAndStart(
  c: CriClient,
  nodeName: string,
  sandboxId: string,
  sb: SandboxConfig,
  cfg: ContainerConfig,
): Promise<string> {
  const what = `container ${cfg.name} of pod ${sb.podNamespace}/${sb.podName}`;
  const user = await securityUser(c, sb, cfg);
  if (sb.logDirectory && cfg.logPath) await mkdir(dirname(join(sb.logDirectory, cfg.logPath)), { recursive: true });
  const config = CriContainerConfig.fromPartial({
    metadata: { name: cfg.name, attempt: cfg.attempt },
    image: { image: cfg.image, userSpecifiedImage: cfg.image },
    command: cfg.command,
    args: cfg.args,
    workingDir: cfg.workingDir,
    envs: cfg.env.map((e) => ({ key: e.name, value: e.value })),
    mounts: cfg.mounts.map((m) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readOnly })),
    labels: containerLabels(nodeName, sb, cfg),
    annotations: cfg.annotations,
    logPath: cfg.logPath,
    stdin: cfg.stdin,
    tty: cfg.tty,
    linux: {
      resources: linuxResources(cfg),
      securityContext: {
        // The container's own namespaces are what count (the sandbox's only shape the pause
        // process): a PID namespace per container, as Kubernetes pods have by default.
        namespaceOptions: {
          network: sb.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD,
          pid: NamespaceMode.CONTAINER,
          ipc: NamespaceMode.POD,
        },
        privileged: cfg.privileged ?? false,
        readonlyRootfs: cfg.readOnlyRootFilesystem ?? false,
        noNewPrivs: cfg.noNewPrivileges ?? false,
        supplementalGroups: sb.supplementalGroups ?? [],
        ...user,
      },
    },
  });
  let containerId: string;
  try {
    containerId = (
      await c.rt('createContainer', { podSandboxId: sandboxId, config, sandboxConfig: podSandboxConfig(nodeName, sb) }, 120_000)
    ).containerId;
  } catch (e) {
    throw criError(e, 'CreateContainerError', `${what}: create`);
  }
  try {
    await c.rt('startContainer', { containerId }, 120_000);
  } catch (e) {
    // A container that never ran is of no use to anyone: do not leak it.
    await removeContainer(c, containerId).catch(() => undefined);
    throw criError(e, 'RunContainerError', `${what}: start`);
  }
  return containerId;
}

const STATES: Record<number, ContainerState> = {
  [CriState.CONTAINER_CREATED]: 'created',
  [CriState.CONTAINER_RUNNING]: 'running',
  [CriState.CONTAINER_EXITED]: 'exited',
};

/** Kubernetes' terminated reasons when the runtime gives none. */
export function exitReason(exitCode: number, reason: string): string {
  if (reason) return reason;
  return exitCode === 0 ? 'Completed' : 'Error';
}

export function toInfo(st: ContainerStatus): ContainerInfo {
  const state = STATES[st.state] ?? 'unknown';
  return {
    state,
    exitCode: state === 'exited' ? st.exitCode : undefined,
    reason: state === 'exited' ? exitReason(st.exitCode, st.reason) : st.reason,
    message: st.message,
    createdAt: nanosToIso(st.createdAt),
    startedAt: nanosToIso(st.startedAt),
    finishedAt: nanosToIso(st.finishedAt),
    imageRef: st.imageRef || st.imageId,
    logPath: st.logPath,
  };
}

export async function containerStatus(c: CriClient, containerId: string): Promise<ContainerStatus> {
  try {
    const st = (await c.rt('containerStatus', { containerId, verbose: false })).status;
    if (!st) throw new RuntimeError('NotFound', `container ${containerId}: runtime returned no status`);
    return st;
  } catch (e) {
    throw criError(e, 'ContainerStatusError', `container ${containerId}: status`);
  }
}

/** The exit of a container whose status is EXITED. */
export function exitResult(st: { exitCode: number; reason: string; message: string; finishedAt: number | string | bigint }): ExitResult {
  const reason = exitReason(st.exitCode, st.reason);
  return { exitCode: st.exitCode, reason, message: st.message, finishedAt: nanosToIso(st.finishedAt), oomKilled: reason === 'OOMKilled' };
}

export async function stopContainer(c: CriClient, containerId: string, timeoutSeconds: number): Promise<void> {
  try {
    await c.rt('stopContainer', { containerId, timeout: Math.max(0, Math.ceil(timeoutSeconds)) }, timeoutSeconds * 1000 + 60_000);
  } catch (e) {
    if (isNotFound(e)) return;
    throw criError(e, 'KillContainerError', `container ${containerId}: stop`);
  }
}

export async function removeContainer(c: CriClient, containerId: string): Promise<void> {
  try {
    await c.rt('removeContainer', { containerId }, 120_000);
  } catch (e) {
    if (isNotFound(e)) return;
    throw criError(e, 'RemoveContainerError', `container ${containerId}: remove`);
  }
}

export async function execSync(c: CriClient, containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult> {
  try {
    const res = await c.rt('execSync', { containerId, cmd, timeout: Math.ceil(timeoutSeconds) }, timeoutSeconds * 1000 + 30_000);
    return { exitCode: res.exitCode, stdout: Buffer.from(res.stdout), stderr: Buffer.from(res.stderr) };
  } catch (e) {
    throw criError(e, 'ExecError', `container ${containerId}: exec ${JSON.stringify(cmd)}`);
  }
}

/** Every running container's reading with the labels given (CRI ListContainerStats). */
export async function listContainerStats(c: CriClient, labelSelector: Record<string, string>): Promise<ContainerStatsSample[]> {
  let stats;
  try {
    stats = (await c.rt('listContainerStats', { filter: { id: '', podSandboxId: '', labelSelector } })).stats;
  } catch (e) {
    throw criError(e, 'StatsError', 'list container stats');
  }
  const out: ContainerStatsSample[] = [];
  for (const s of stats) {
    const id = s.attributes?.id;
    const ts = s.cpu?.timestamp;
    // No CPU reading (a container that is not running): nothing to compute a rate from.
    if (!id || !ts || !s.cpu?.usageCoreNanoSeconds) continue;
    out.push({
      containerId: id,
      // Nanoseconds since the epoch exceed a double's exact range; whole microseconds do not.
      timestampMs: Number(BigInt(ts) / 1000n) / 1000,
      cpuUsageNanoCores: Number(s.cpu.usageNanoCores?.value ?? 0),
      cpuUsageCoreNanoSeconds: Number(s.cpu.usageCoreNanoSeconds.value),
      memoryWorkingSetBytes: Number(s.memory?.workingSetBytes?.value ?? 0),
    });
  }
  return out;
}

/** CRI ReopenContainerLog: containerd opens a fresh file at the container's log path. */
export async function reopenContainerLog(c: CriClient, containerId: string): Promise<void> {
  try {
    await c.rt('reopenContainerLog', { containerId });
  } catch (e) {
    throw criError(e, 'ReopenLogError', `container ${containerId}: reopen its log`);
  }
}

export async function containerStats(c: CriClient, containerId: string): Promise<ContainerStats> {
  try {
    const s = (await c.rt('containerStats', { containerId })).stats;
    return {
      cpuUsageNanoCores: Number(s?.cpu?.usageNanoCores?.value ?? 0),
      cpuUsageCoreNanoSeconds: Number(s?.cpu?.usageCoreNanoSeconds?.value ?? 0),
      memoryWorkingSetBytes: Number(s?.memory?.workingSetBytes?.value ?? 0),
    };
  } catch (e) {
    throw criError(e, 'StatsError', `container ${containerId}: stats`);
  }
}
