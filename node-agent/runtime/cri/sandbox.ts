// Pod sandboxes over CRI: one per pod, holding its network namespace (CNI, or the node's with
// hostNetwork), host ports and log directory. The same PodSandboxConfig is rebuilt for every
// CreateContainer, as the CRI asks.
import { mkdir } from 'node:fs/promises';
import {
  NamespaceMode,
  PodSandboxConfig,
  PodSandboxState,
  Protocol,
  type LinuxContainerResources,
  type PodSandboxStatus,
} from '../../../proto/gen/runtime/v1/api.js';
import { RuntimeError, type SandboxConfig, type SandboxHandle } from '../runtime.js';
import { sandboxLabels } from '../labels.js';
import { criError, isNotFound, type CriClient } from './client.js';

const PROTOCOLS: Record<string, Protocol> = { TCP: Protocol.TCP, UDP: Protocol.UDP, SCTP: Protocol.SCTP };

export function podSandboxConfig(nodeName: string, cfg: SandboxConfig): PodSandboxConfig {
  const resources: Partial<LinuxContainerResources> | undefined =
    cfg.cpuMillisLimit > 0 || cfg.memoryBytesLimit > 0
      ? {
          cpuPeriod: cfg.cpuMillisLimit > 0 ? 100_000 : 0,
          cpuQuota: cfg.cpuMillisLimit > 0 ? cfg.cpuMillisLimit * 100 : 0,
          memoryLimitInBytes: cfg.memoryBytesLimit,
        }
      : undefined;
  return PodSandboxConfig.fromPartial({
    metadata: { name: cfg.podName, uid: cfg.podUid, namespace: cfg.podNamespace, attempt: cfg.attempt },
    // The runtime cannot set a hostname without a private UTS namespace (host network).
    hostname: cfg.hostNetwork ? '' : cfg.hostname || cfg.podName,
    logDirectory: cfg.logDirectory,
    dnsConfig: cfg.dns,
    portMappings: cfg.portMappings.map((p) => {
      const protocol = PROTOCOLS[p.protocol.toUpperCase() || 'TCP'];
      if (protocol === undefined) throw new RuntimeError('CreatePodSandboxError', `port ${p.containerPort}: unknown protocol "${p.protocol}" (TCP, UDP or SCTP)`);
      return { protocol, containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP };
    }),
    labels: sandboxLabels(nodeName, cfg),
    annotations: cfg.annotations,
    linux: {
      resources,
      securityContext: {
        // Kubernetes pods get a PID namespace per container unless shareProcessNamespace.
        namespaceOptions: {
          network: cfg.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD,
          pid: NamespaceMode.CONTAINER,
          ipc: NamespaceMode.POD,
        },
        runAsUser: cfg.runAsUser !== undefined ? { value: cfg.runAsUser } : undefined,
        runAsGroup: cfg.runAsUser !== undefined && cfg.runAsGroup !== undefined ? { value: cfg.runAsGroup } : undefined,
        supplementalGroups: cfg.supplementalGroups ?? [],
        privileged: cfg.privileged ?? false,
      },
    },
  });
}

export async function runSandbox(c: CriClient, nodeName: string, cfg: SandboxConfig): Promise<SandboxHandle> {
  const config = podSandboxConfig(nodeName, cfg);
  const what = `pod ${cfg.podNamespace}/${cfg.podName}: create sandbox`;
  if (cfg.logDirectory) await mkdir(cfg.logDirectory, { recursive: true });
  let sandboxId: string;
  try {
    // Generous deadline: the first sandbox may have to set up the CNI bridge.
    sandboxId = (await c.rt('runPodSandbox', { config, runtimeHandler: '' }, 120_000)).podSandboxId;
  } catch (e) {
    throw criError(e, 'CreatePodSandboxError', what);
  }
  const st = await sandboxStatus(c, sandboxId);
  return {
    version: 1,
    runtime: 'cri',
    sandboxId,
    podUid: cfg.podUid,
    podIP: cfg.hostNetwork ? '' : (st?.network?.ip ?? ''),
  };
}

/** The sandbox's status, undefined when it no longer exists. */
export async function sandboxStatus(c: CriClient, sandboxId: string): Promise<PodSandboxStatus | undefined> {
  try {
    return (await c.rt('podSandboxStatus', { podSandboxId: sandboxId, verbose: false })).status;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw criError(e, 'SandboxStatusError', `sandbox ${sandboxId}: status`);
  }
}

export function isHostNetwork(st: PodSandboxStatus): boolean {
  return st.linux?.namespaces?.options?.network === NamespaceMode.NODE;
}

export function isReady(st: PodSandboxStatus): boolean {
  return st.state === PodSandboxState.SANDBOX_READY;
}

export async function stopSandbox(c: CriClient, sandboxId: string): Promise<void> {
  try {
    await c.rt('stopPodSandbox', { podSandboxId: sandboxId }, 120_000);
  } catch (e) {
    if (isNotFound(e)) return;
    throw criError(e, 'KillPodSandboxError', `sandbox ${sandboxId}: stop`);
  }
}

export async function removeSandbox(c: CriClient, sandboxId: string): Promise<void> {
  try {
    await c.rt('removePodSandbox', { podSandboxId: sandboxId }, 120_000);
  } catch (e) {
    if (isNotFound(e)) return;
    throw criError(e, 'RemovePodSandboxError', `sandbox ${sandboxId}: remove`);
  }
}
