// The CRI runtime: Skiff's Runtime interface over containerd's CRI (runtime.v1) socket.
// Handles hold only CRI ids, so a new instance on the same socket re-attaches to everything an
// earlier one started; discover() finds them by the io.skiff.* labels.
import type { Logger } from 'pino';
import { PodSandboxState } from '../../../proto/gen/runtime/v1/api.js';
import type {
  ContainerConfig,
  ContainerHandle,
  ContainerInfo,
  ContainerStats,
  ContainerStatsSample,
  Discovered,
  ExecResult,
  ExecSession,
  ExitResult,
  ImageAuth,
  Runtime,
  SandboxConfig,
  RuntimeCondition,
  SandboxHandle,
  StreamingExec,
} from '../runtime.js';
import { LABEL_POD_UID, managedSelector } from '../labels.js';
import { CriClient, criError } from './client.js';
import * as ctr from './containers.js';
import { execStream } from './exec-stream.js';
import { ExitWatcher } from './exit-watcher.js';
import { TaskExitStream } from './task-exits.js';
import { ensureImage } from './images.js';
import { isHostNetwork, isReady, removeSandbox, runSandbox, sandboxStatus, stopSandbox } from './sandbox.js';

export interface CriRuntimeOptions {
  /** containerd's socket: `unix:///run/containerd/containerd.sock` or an absolute path. */
  address: string;
  /** Labels what this runtime creates (io.skiff.node) and scopes discover() to it; "" = any. */
  nodeName?: string;
  /** How often containers are relisted to find exits (the kubelet's PLEG relists every 1 s). */
  pollIntervalMs?: number;
  /** Take exits pushed by containerd's events service (default true); the relist stays. */
  exitEvents?: boolean;
  log?: Logger;
}

export class CriRuntime implements Runtime, StreamingExec {
  readonly name = 'cri';
  private readonly client: CriClient;
  private readonly nodeName: string;
  private readonly exits: ExitWatcher;
  private readonly taskExits: TaskExitStream | undefined;

  constructor(opts: CriRuntimeOptions) {
    this.client = new CriClient(opts.address);
    this.nodeName = opts.nodeName ?? '';
    this.exits = new ExitWatcher(this.client, managedSelector(this.nodeName), opts.pollIntervalMs ?? 1000);
    if (opts.exitEvents ?? true) {
      const exits = this.exits;
      this.taskExits = new TaskExitStream(opts.address, { onExit: (id) => exits.exited(id), onResync: () => exits.resync() }, opts.log);
    }
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    try {
      const v = await this.client.rt('version', { version: 'v1' }, 10_000);
      return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion };
    } catch (e) {
      throw criError(e, 'Unavailable', 'runtime version');
    }
  }

  async status(): Promise<RuntimeCondition[]> {
    try {
      // Short deadline: this runs on every heartbeat, and a hung runtime is what it detects.
      const res = await this.client.rt('status', { verbose: false }, 5_000);
      return (res.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
    } catch (e) {
      throw criError(e, 'Unavailable', 'runtime status');
    }
  }

  async updatePodCIDR(cidr: string): Promise<void> {
    try {
      await this.client.rt('updateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr: cidr } } }, 10_000);
    } catch (e) {
      throw criError(e, 'Unavailable', `update runtime config (pod CIDR ${cidr})`);
    }
  }

  ensureImage(image: string, policy: 'Always' | 'IfNotPresent' | 'Never', auth?: ImageAuth): Promise<string> {
    return ensureImage(this.client, image, policy, auth);
  }

  startSandbox(cfg: SandboxConfig): Promise<SandboxHandle> {
    return runSandbox(this.client, this.nodeName, cfg);
  }

  stopSandbox(h: SandboxHandle): Promise<void> {
    return stopSandbox(this.client, h.sandboxId);
  }

  async destroySandbox(h: SandboxHandle): Promise<void> {
    // The CRI wants StopPodSandbox before RemovePodSandbox; both are idempotent.
    await stopSandbox(this.client, h.sandboxId);
    await removeSandbox(this.client, h.sandboxId);
  }

  async startContainer(sandbox: SandboxHandle, sandboxCfg: SandboxConfig, cfg: ContainerConfig): Promise<ContainerHandle> {
    const containerId = await ctr.createAndStart(this.client, this.nodeName, sandbox.sandboxId, sandboxCfg, cfg);
    if (!cfg.memoryBytesLimit) this.exits.noMemoryLimit(containerId);
    return { version: 1, runtime: 'cri', sandboxId: sandbox.sandboxId, containerId, name: cfg.name, attempt: cfg.attempt };
  }

  waitContainer(h: ContainerHandle, signal?: AbortSignal): Promise<ExitResult> {
    this.taskExits?.start();
    return this.exits.wait(h.containerId, signal);
  }

  stopContainer(h: ContainerHandle, timeoutSeconds: number): Promise<void> {
    return ctr.stopContainer(this.client, h.containerId, timeoutSeconds);
  }

  destroyContainer(h: ContainerHandle): Promise<void> {
    return ctr.removeContainer(this.client, h.containerId);
  }

  async inspectContainer(h: ContainerHandle): Promise<ContainerInfo> {
    return ctr.toInfo(await ctr.containerStatus(this.client, h.containerId));
  }

  exec(h: ContainerHandle, cmd: string[], timeoutSeconds: number): Promise<ExecResult> {
    return ctr.execSync(this.client, h.containerId, cmd, timeoutSeconds);
  }

  execStream(h: ContainerHandle, cmd: string[], opts: { tty: boolean; stdin: boolean }): Promise<ExecSession> {
    return execStream(this.client, h.containerId, cmd, opts);
  }

  stats(h: ContainerHandle): Promise<ContainerStats> {
    return ctr.containerStats(this.client, h.containerId);
  }

  reopenContainerLog(h: ContainerHandle): Promise<void> {
    return ctr.reopenContainerLog(this.client, h.containerId);
  }

  listStats(): Promise<ContainerStatsSample[]> {
    return ctr.listContainerStats(this.client, managedSelector(this.nodeName));
  }

  async discover(): Promise<Discovered> {
    const labelSelector = managedSelector(this.nodeName);
    const c = this.client;
    let items, containers;
    try {
      items = (await c.rt('listPodSandbox', { filter: { id: '', labelSelector } })).items;
      containers = (await c.rt('listContainers', { filter: { id: '', podSandboxId: '', labelSelector } })).containers;
    } catch (e) {
      throw criError(e, 'Unavailable', 'discover');
    }
    const out: Discovered = { sandboxes: [], containers: [] };
    for (const sb of items) {
      const ready = sb.state === PodSandboxState.SANDBOX_READY;
      // Only a ready sandbox still has a network namespace worth asking about.
      const st = ready ? await sandboxStatus(c, sb.id) : undefined;
      out.sandboxes.push({
        handle: {
          version: 1,
          runtime: 'cri',
          sandboxId: sb.id,
          podUid: sb.metadata?.uid ?? sb.labels[LABEL_POD_UID] ?? '',
          podIP: st && !isHostNetwork(st) ? (st.network?.ip ?? '') : '',
        },
        ready: st ? isReady(st) : false,
        labels: sb.labels,
      });
    }
    for (const ct of containers) {
      let info: ContainerInfo;
      try {
        info = ctr.toInfo(await ctr.containerStatus(c, ct.id));
      } catch {
        continue; // removed between the list and the status: nothing to re-attach to
      }
      out.containers.push({
        handle: {
          version: 1,
          runtime: 'cri',
          sandboxId: ct.podSandboxId,
          containerId: ct.id,
          name: ct.metadata?.name ?? '',
          attempt: ct.metadata?.attempt ?? 0,
        },
        info,
        labels: ct.labels,
      });
    }
    return out;
  }

  close(): Promise<void> {
    this.exits.close();
    this.taskExits?.close();
    this.client.close();
    return Promise.resolve();
  }
}
