// Pod spec -> runtime configs: the sandbox (network, host ports, log dir, pod cgroup) and each
// container (command, env, mounts, user, limits). Config problems the user must fix surface as
// CreateContainerConfigError, as in Kubernetes.
import { existsSync, statSync } from 'node:fs';
import { mkdir, open, realpath } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Container, PersistentVolumeClaimVolumeSource, Pod } from '../proto/gen/skiff/v1/core.js';
import { RuntimeError, type ContainerConfig, type Mount, type PortMapping, type SandboxConfig, type SandboxDns } from './runtime/runtime.js';
import { cpuMillis, memoryBytes } from '../proto/api/quantity.js';

export interface PodPaths {
  /** <state>/pods/<uid>: the agent's record and the pod's volumes. */
  podDir: string;
  volumesDir: string;
  /** <state>/logs/<namespace>_<name>_<uid>: the sandbox's log directory. */
  logDir: string;
}

export function podPaths(stateDir: string, pod: { namespace: string; name: string; uid: string }): PodPaths {
  const podDir = join(stateDir, 'pods', pod.uid);
  return {
    podDir,
    volumesDir: join(podDir, 'volumes'),
    logDir: join(stateDir, 'logs', `${pod.namespace}_${pod.name}_${pod.uid}`),
  };
}

export function containerLogPath(name: string, attempt: number): string {
  return `${name}/${attempt}.log`;
}

function configError(message: string): RuntimeError {
  return new RuntimeError('CreateContainerConfigError', message);
}

export function sandboxConfig(pod: Pod, paths: PodPaths, dns?: SandboxDns): SandboxConfig {
  const m = pod.metadata!;
  const spec = pod.spec!;
  const portMappings: PortMapping[] = [];
  let cpu = 0;
  let mem = 0;
  let allCpu = true;
  let allMem = true;
  for (const c of spec.containers) {
    for (const p of c.ports) {
      if (p.hostPort > 0) {
        portMappings.push({ containerPort: p.containerPort, hostPort: p.hostPort, protocol: p.protocol || 'TCP', hostIP: p.hostIP });
      }
    }
    const cl = cpuMillis(c.resources?.limits.cpu);
    const ml = memoryBytes(c.resources?.limits.memory);
    cpu += cl;
    mem += ml;
    if (!cl) allCpu = false;
    if (!ml) allMem = false;
  }
  const sc = spec.securityContext;
  return {
    podUid: m.uid,
    podName: m.name,
    podNamespace: m.namespace,
    attempt: 0,
    hostNetwork: spec.hostNetwork,
    hostname: spec.hostname || m.name,
    portMappings,
    // The runtime adds its own io.skiff.* labels (pod uid, name, node) for discover().
    labels: { ...m.labels },
    annotations: {},
    logDirectory: paths.logDir,
    // A pod-level limit only makes sense when every container has one.
    cpuMillisLimit: allCpu ? cpu : 0,
    memoryBytesLimit: allMem ? mem : 0,
    runAsUser: sc?.runAsUser,
    runAsGroup: sc?.runAsGroup,
    supplementalGroups: sc?.supplementalGroups.length ? sc.supplementalGroups : undefined,
    dns,
  };
}

const inside = (base: string, p: string): boolean => p === base || p.startsWith(base.endsWith(sep) ? base : base + sep);

/**
 * The volume's directory joined with a subPath, refused unless it stays inside the volume: the
 * API refuses '..' and absolute subPaths, and this holds even for a pod that reached the agent
 * another way or a symlink the container planted in its volume (checked again once it exists).
 */
export function subPathJoin(volumeName: string, base: string, subPath: string): string {
  const joined = resolve(base, subPath);
  if (subPath.startsWith('/') || !inside(resolve(base), joined)) {
    throw configError(`volume "${volumeName}": subPath "${subPath}" leaves the volume`);
  }
  return joined;
}

/**
 * The real path (symlinks followed) of the subPath, or of its deepest existing ancestor before
 * it is created, must still be in the volume: a symlink the container planted there must not
 * lead the mount, or the agent's mkdir, onto the host.
 */
export async function checkSubPathReal(volumeName: string, base: string, subPath: string, joined: string): Promise<void> {
  // The volume's own location is the agent's to choose; only what lies under it is checked.
  if (!existsSync(base)) return;
  let existing = joined;
  while (!existsSync(existing) && inside(base, dirname(existing)) && existing !== base) existing = dirname(existing);
  const [realBase, realJoined] = await Promise.all([realpath(base), realpath(existing)]);
  if (!inside(realBase, realJoined)) {
    throw configError(`volume "${volumeName}": subPath "${subPath}" resolves to ${realJoined}, outside the volume`);
  }
}

/** The host directory of a persistentVolumeClaim volume (node-agent/volumes/claim-path.ts). */
export type ClaimPathResolver = (pod: Pod, src: PersistentVolumeClaimVolumeSource) => Promise<string>;

/** Prepares the volumes a container mounts (creating emptyDirs and *OrCreate host paths). */
export async function containerMounts(
  pod: Pod, c: Container, paths: PodPaths, claimPath?: ClaimPathResolver, configDirs?: ReadonlyMap<string, string>,
): Promise<Mount[]> {
  const mounts: Mount[] = [];
  for (const vm of c.volumeMounts) {
    const v = pod.spec!.volumes.find((x) => x.name === vm.name);
    if (!v) throw configError(`container ${c.name}: volumeMount "${vm.name}" names no volume of the pod`);
    let hostPath: string;
    // configMap/secret volumes: written by node-agent/config, mounted read-only as the kubelet does.
    const configDir = v.configMap || v.secret ? configDirs?.get(v.name) : undefined;
    if (v.configMap || v.secret) {
      if (!configDir) throw configError(`volume "${v.name}": its ${v.secret ? 'secret' : 'configMap'} files were not prepared`);
      let path = configDir;
      if (vm.subPath) {
        path = subPathJoin(v.name, configDir, vm.subPath);
        await checkSubPathReal(v.name, configDir, vm.subPath, path);
      }
      mounts.push({ containerPath: vm.mountPath, hostPath: path, readOnly: true });
      continue;
    }
    if (v.persistentVolumeClaim) {
      if (!claimPath) throw configError(`persistentVolumeClaim volume "${v.name}": this node agent cannot mount claims`);
      hostPath = await claimPath(pod, v.persistentVolumeClaim);
    } else if (v.hostPath) {
      hostPath = v.hostPath.path;
      const t = v.hostPath.type;
      if (t === 'DirectoryOrCreate') await mkdir(hostPath, { recursive: true });
      else if (t === 'FileOrCreate') await (await open(hostPath, 'a')).close();
      else if (t === 'Directory' && !(existsSync(hostPath) && statSync(hostPath).isDirectory())) {
        throw configError(`hostPath volume "${v.name}": ${hostPath} is not a directory`);
      } else if (t === 'File' && !(existsSync(hostPath) && statSync(hostPath).isFile())) {
        throw configError(`hostPath volume "${v.name}": ${hostPath} is not a file`);
      }
    } else {
      // emptyDir (medium Memory is a node-disk directory too: no tmpfs mount here).
      hostPath = join(paths.volumesDir, v.name);
      await mkdir(hostPath, { recursive: true });
    }
    if (vm.subPath) {
      const base = hostPath;
      hostPath = subPathJoin(v.name, base, vm.subPath);
      // Checked before mkdir too: a symlinked parent must not make mkdir create outside.
      await checkSubPathReal(v.name, base, vm.subPath, hostPath);
      if (!v.hostPath || v.hostPath.type === 'DirectoryOrCreate' || !existsSync(hostPath)) await mkdir(hostPath, { recursive: true });
      await checkSubPathReal(v.name, base, vm.subPath, hostPath);
    }
    mounts.push({ containerPath: vm.mountPath, hostPath, readOnly: vm.readOnly || !!v.persistentVolumeClaim?.readOnly });
  }
  return mounts;
}

export function containerConfig(pod: Pod, c: Container, attempt: number, mounts: Mount[], env?: { name: string; value: string }[]): ContainerConfig {
  const psc = pod.spec!.securityContext;
  const sc = c.securityContext;
  const runAsUser = sc?.runAsUser ?? psc?.runAsUser;
  const runAsNonRoot = sc?.runAsNonRoot ?? psc?.runAsNonRoot;
  if (runAsNonRoot && runAsUser === 0) {
    throw configError(`container ${c.name} has runAsNonRoot and image will run as root (runAsUser 0)`);
  }
  return {
    name: c.name,
    image: c.image,
    command: c.command,
    args: c.args,
    env: env ?? c.env.map((e) => ({ name: e.name, value: e.value })),
    workingDir: c.workingDir,
    mounts,
    attempt,
    logPath: containerLogPath(c.name, attempt),
    runAsUser,
    runAsGroup: sc?.runAsGroup ?? psc?.runAsGroup,
    runAsNonRoot,
    readOnlyRootFilesystem: sc?.readOnlyRootFilesystem,
    privileged: sc?.privileged,
    noNewPrivileges: sc?.allowPrivilegeEscalation === false,
    cpuMillisLimit: cpuMillis(c.resources?.limits.cpu),
    cpuMillisRequest: cpuMillis(c.resources?.requests.cpu),
    memoryBytesLimit: memoryBytes(c.resources?.limits.memory),
    labels: {},
    annotations: {},
    tty: c.tty,
    stdin: c.stdin,
  };
}

/** imagePullPolicy with Kubernetes' default (Always for :latest or no tag, else IfNotPresent). */
export function pullPolicy(c: Container): 'Always' | 'IfNotPresent' | 'Never' {
  const p = c.imagePullPolicy;
  if (p === 'Always' || p === 'IfNotPresent' || p === 'Never') return p;
  const ref = c.image.split('@')[0] ?? '';
  const lastSlash = ref.lastIndexOf('/');
  const tagAt = ref.indexOf(':', lastSlash + 1);
  const tag = tagAt < 0 ? '' : ref.slice(tagAt + 1);
  return !c.image.includes('@') && (tag === '' || tag === 'latest') ? 'Always' : 'IfNotPresent';
}
