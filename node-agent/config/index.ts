// ConfigMaps and Secrets in pods on this node: the environment, configMap/secret volumes and
// image pull credentials a container starts with, from the objects its pod refers to. Volumes
// are written atomically (atomic-writer.ts) and rewritten when their objects change (the
// object cache reports changes and the pod re-syncs); the environment is fixed at start, as in
// Kubernetes. A missing object or key that is not optional fails the start with
// CreateContainerConfigError and a Warning event; the pod starts once it exists.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../proto/api/clock.js';
import type { Secret } from '../../proto/gen/skiff/v1/config.js';
import type { Container, Pod } from '../../proto/gen/skiff/v1/core.js';
import type { AgentApi } from '../api-client.js';
import { commandExec, type Exec } from '../network/exec.js';
import type { PodPaths } from '../pod-config.js';
import { RuntimeError, type ImageAuth } from '../runtime/runtime.js';
import { writeAtomic } from './atomic-writer.js';
import { resolveEnv } from './env.js';
import { postPodWarning } from './events.js';
import { ConfigObjectCache } from './object-cache.js';
import { projectVolume } from './projection.js';
import { pullAuth } from './pull-auth.js';
import { ConfigError, podRefs, type ConfigRef, type ConfigSnapshot } from './snapshot.js';
import { ensureTmpfs } from './tmpfs.js';

export { podRefs, refKey, type ConfigRef } from './snapshot.js';

export interface ContainerInputs {
  env: { name: string; value: string }[];
  /** Host directory of each configMap/secret volume of the pod, by volume name. */
  volumeDirs: Map<string, string>;
  auth?: ImageAuth;
}

export interface PodConfigOptions {
  api: AgentApi;
  clock: Clock;
  log: Logger;
  nodeName: string;
  stateDir: string;
  /** A ConfigMap or Secret some pod uses changed (or appeared, or went). */
  onChange: (ref: ConfigRef) => void;
  exec?: Exec;
}

export class PodConfigSource {
  readonly cache: ConfigObjectCache;
  /** Mount point of the secret volumes' tmpfs. */
  readonly secretRoot: string;
  private tmpfs: Promise<void> | undefined;
  private readonly warned = new Map<string, string>();

  constructor(private readonly o: PodConfigOptions) {
    this.cache = new ConfigObjectCache(o.api, o.clock, o.log, o.onChange);
    this.secretRoot = join(o.stateDir, 'secret-volumes');
  }

  private async snapshot(pod: Pod): Promise<ConfigSnapshot> {
    const refs = podRefs(pod);
    this.cache.use(pod.metadata!.uid, refs);
    return this.cache.snapshot(refs);
  }

  /** What container c starts with; throws RuntimeError CreateContainerConfigError for what the user must fix. */
  async forContainer(pod: Pod, c: Container, paths: PodPaths): Promise<ContainerInputs> {
    const s = await this.snapshot(pod);
    try {
      const { env, skipped } = resolveEnv(pod, c, s);
      if (skipped.length) this.warn(pod, 'InvalidEnvironmentVariableNames', `Keys [${skipped.join(', ')}] from the EnvFrom of container ${c.name} were skipped since they are invalid environment variable names`);
      const volumeDirs = await this.writeVolumes(pod, paths, s);
      const secrets = (pod.spec?.imagePullSecrets ?? []).map((r) => s.secrets.get(r.name)).filter((x): x is Secret => !!x);
      const missing = (pod.spec?.imagePullSecrets ?? []).filter((r) => !s.secrets.has(r.name)).map((r) => r.name);
      if (missing.length) this.warn(pod, 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`);
      this.warned.delete(`${pod.metadata!.uid}/Failed`);
      return { env, volumeDirs, auth: pullAuth(c.image, secrets) };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.warn(pod, 'Failed', `Error: ${e.message}`);
      throw new RuntimeError('CreateContainerConfigError', e.message);
    }
  }

  /** Rewrites the pod's configMap/secret volumes whose objects changed (a running pod's sync). */
  async refresh(pod: Pod, paths: PodPaths): Promise<void> {
    if (!pod.spec?.volumes.some((v) => v.configMap || v.secret)) return;
    try {
      await this.writeVolumes(pod, paths, await this.snapshot(pod));
    } catch (e) {
      // The files keep their last content (as the kubelet's); the next change retries.
      this.o.log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, err: e instanceof Error ? e.message : String(e) }, 'config volumes not refreshed');
    }
  }

  /** The pod is gone: stop its watches, remove its secret files. */
  async release(uid: string): Promise<void> {
    this.cache.release(uid);
    for (const k of this.warned.keys()) if (k.startsWith(`${uid}/`)) this.warned.delete(k);
    await rm(join(this.secretRoot, uid), { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    await this.cache.stop();
  }

  private async writeVolumes(pod: Pod, paths: PodPaths, s: ConfigSnapshot): Promise<Map<string, string>> {
    const dirs = new Map<string, string>();
    for (const v of pod.spec?.volumes ?? []) {
      if (!v.configMap && !v.secret) continue;
      const files = projectVolume(v, s);
      let dir: string;
      if (v.secret) {
        this.tmpfs ??= ensureTmpfs(this.secretRoot, this.o.exec ?? commandExec()).catch((e: unknown) => {
          this.tmpfs = undefined;
          throw new ConfigError(`secret volumes need a tmpfs at ${this.secretRoot}: ${e instanceof Error ? e.message : String(e)}`);
        });
        await this.tmpfs;
        dir = join(this.secretRoot, pod.metadata!.uid, v.name);
      } else dir = join(paths.volumesDir, v.name);
      if (await writeAtomic(dir, files, new Date(this.o.clock.now()))) {
        this.o.log.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, volume: v.name, files: files.size }, 'config volume written');
      }
      dirs.set(v.name, dir);
    }
    return dirs;
  }

  /** A Warning event on the pod, once per reason and message while it lasts. */
  private warn(pod: Pod, reason: string, message: string): void {
    const k = `${pod.metadata!.uid}/${reason}`;
    if (this.warned.get(k) === message) return;
    this.warned.set(k, message);
    postPodWarning(this.o.api, pod, this.o.nodeName, reason, message, this.o.clock.now()).catch((e: unknown) =>
      this.o.log.warn({ err: e instanceof Error ? e.message : String(e), reason }, 'could not post event'),
    );
  }
}
