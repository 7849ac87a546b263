// The node's half of the local-path provisioner: publishes where its volumes live (an
// annotation on its Node, read by the binding controller when it makes a volume here), keeps a
// directory for every volume made for this node, and removes the data of a deleted one before
// letting the volume object go (its skiff.io/local-path-cleanup finalizer). Watches all
// PersistentVolumes; planLocalPath (decide.ts) picks this node's.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { isApiError } from '../../../proto/api/errors.js';
import { sleep, type Clock } from '../../../proto/api/clock.js';
import { LOCAL_PATH_DIR_ANNOTATION, LOCAL_PATH_FINALIZER } from '../../../proto/api/storage.js';
import type { PersistentVolume } from '../../../proto/gen/skiff/v1/storage.js';
import type { AgentApi } from '../../api-client.js';
import { ListWatch } from '../../list-watch.js';
import { planLocalPath } from './decide.js';

export interface LocalPathOptions {
  api: AgentApi;
  nodeName: string;
  /** Where volume directories go: <dir>/<volume name>. */
  dir: string;
  clock: Clock;
  log: Logger;
}

const PUBLISH_RETRY_MS = 2_000;

export class LocalPathProvisioner {
  private watch: ListWatch<'PersistentVolume'> | undefined;
  private readonly volumes = new Map<string, PersistentVolume>();
  private stopped = false;
  private running = false;
  private again = false;
  private published: Promise<void> = Promise.resolve();

  constructor(private readonly o: LocalPathOptions) {}

  async start(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true });
    this.published = this.publish();
    this.watch = new ListWatch(this.o.api, { kind: 'PersistentVolume', what: 'persistentvolume', fieldSelector: '' }, this.o.clock, this.o.log, {
      onList: (items) => {
        this.volumes.clear();
        for (const pv of items) this.volumes.set(pv.metadata?.name ?? '', pv);
        this.kick();
      },
      onUpsert: (pv) => {
        this.volumes.set(pv.metadata?.name ?? '', pv);
        this.kick();
      },
      onDelete: (pv) => {
        this.volumes.delete(pv.metadata?.name ?? '');
      },
    });
    this.watch.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.watch?.stop();
    await this.published;
  }

  /** Until it sticks: the node may not be registered yet when the agent starts. */
  private async publish(): Promise<void> {
    const patch = { metadata: { annotations: { [LOCAL_PATH_DIR_ANNOTATION]: this.o.dir } } };
    while (!this.stopped) {
      try {
        await this.o.api.mergePatch('Node', '', this.o.nodeName, patch);
        return;
      } catch (e) {
        this.o.log.debug({ err: e instanceof Error ? e.message : String(e) }, 'local-path directory not published yet');
        await sleep(this.o.clock, PUBLISH_RETRY_MS);
      }
    }
  }

  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.sync()
      .catch((e: unknown) => this.o.log.error({ err: e instanceof Error ? e.message : String(e) }, 'local-path sync failed'))
      .finally(() => {
        this.running = false;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async sync(): Promise<void> {
    const plan = planLocalPath([...this.volumes.values()], this.o.nodeName, this.o.dir);
    for (const dir of plan.ensure) {
      // As rancher's provisioner: any user a pod runs as may write its volume. Made under a
      // temporary name and renamed into place, so it never appears with the umask's mode.
      if (!existsSync(dir)) {
        const tmp = `${dir}.new-${randomBytes(4).toString('hex')}`;
        await mkdir(tmp, { recursive: true });
        await chmod(tmp, 0o777);
        await rename(tmp, dir);
      }
      await chmod(dir, 0o777);
    }
    for (const { volume, dir } of plan.remove) {
      await rm(dir, { recursive: true, force: true });
      this.o.log.info({ volume: volume.metadata?.name, dir }, 'local-path volume deleted; data removed');
      await this.release(volume);
    }
  }

  /** Drops our finalizer; the API server removes the volume when it was the last. */
  private async release(pv: PersistentVolume): Promise<void> {
    const next = { ...pv, metadata: { ...pv.metadata!, finalizers: pv.metadata!.finalizers.filter((f) => f !== LOCAL_PATH_FINALIZER) } };
    try {
      await this.o.api.update('PersistentVolume', next);
    } catch (e) {
      // Changed meanwhile: its next watch event brings it back here.
      if (isApiError(e, 'Conflict') || isApiError(e, 'NotFound')) return;
      throw e;
    }
  }
}
