// `skiff compose` and its verbs on commander: global -f/-p, then up, down, ps, logs, config.
import { InvalidArgumentError, type Command } from 'commander';
import { ApiError } from '../../proto/api/errors.js';
import type { Ctx } from '../context.js';
import { parseDuration } from '../duration.js';
import { composeConfig } from './config.js';
import { composeDown } from './down.js';
import { followLogs } from './logs.js';
import { prepareName, type ComposeGlobals } from './project-name.js';
import { composePs } from './ps.js';
import { readProject, serviceNames } from './snapshot.js';
import { composeUp } from './up.js';

type Action = (fn: (ctx: Ctx, ...rest: never[]) => Promise<number>) => (...args: unknown[]) => Promise<void>;

interface Globals {
  file?: string;
  projectName?: string;
}

function tailOf(v: string): number {
  if (v === 'all') return -1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < -1) throw new InvalidArgumentError('expected a number of lines or "all"');
  return n;
}

/** Runs fn until SIGINT/SIGTERM, which aborts the signal it gets (and does not exit). */
async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function registerCompose(program: Command, action: Action, env: NodeJS.ProcessEnv): void {
  const compose = program
    .command('compose')
    .description('run a Compose file on the cluster: up, down, ps, logs, config (one namespace per project)')
    .option('-f, --file <file>', 'compose file (default: compose.yaml, compose.yml, docker-compose.yml in the current directory)')
    .option('-p, --project-name <name>', 'project name (default: the file\'s name:, else the directory name)');
  // The action wrapper hands verbs their arguments and options, not the Command: -f and -p are
  // read from the compose command itself once parsed.
  const globals = (): ComposeGlobals => {
    const g = compose.opts<Globals>();
    return { file: g.file, projectName: g.projectName, cwd: process.cwd(), env };
  };

  compose
    .command('up')
    .description('create or update the project\'s objects in dependency order; without -d show the rollout, then follow the logs')
    .argument('[services...]', 'only these services (and what they depend on)')
    .option('-d, --detach', 'return once applied (with --wait: once every service is up)', false)
    .option('--build', 'build images of services with build: before starting', false)
    .option('--wait', 'with -d: wait until every service is running and healthy', false)
    .option('--wait-timeout <duration>', 'give up waiting for a dependency or --wait after this long', '5m')
    .option('--remove-orphans', 'delete services of the project that are no longer in the file', false)
    .action(action((ctx, services: string[], opts: { detach: boolean; build: boolean; wait: boolean; waitTimeout: string; removeOrphans: boolean }) =>
      interruptible((signal) => composeUp(ctx, globals(), {
        ...opts, services, timeoutMs: parseDuration(opts.waitTimeout, '--wait-timeout'), signal,
      }))));

  compose
    .command('down')
    .description('delete the project\'s objects; named volumes (PersistentVolumeClaims) are kept unless -v')
    .option('-v, --volumes', 'also delete the named volumes', false)
    .option('-t, --timeout <duration>', 'how long to wait for the pods to stop', '2m')
    .action(action((ctx, opts: { volumes: boolean; timeout: string }) =>
      composeDown(ctx, globals(), { volumes: opts.volumes, timeoutMs: parseDuration(opts.timeout, '--timeout') })));

  compose
    .command('ps')
    .description('list the project\'s services with their replicas, state and published ports')
    .action(action((ctx) => composePs(ctx, globals())));

  compose
    .command('logs')
    .description('print the logs of the project\'s services, each line prefixed with its service')
    .argument('[services...]')
    .option('-f, --follow', 'keep following until Ctrl-C', false)
    .option('--tail <n>', 'last N lines of each container ("all" for everything)', tailOf, -1)
    .action(action((ctx, services: string[], opts: { follow: boolean; tail: number }) => interruptible(async (signal) => {
      const { name, namespace } = prepareName(globals());
      const present = serviceNames(await readProject(ctx.api(), namespace, name));
      for (const s of services) if (!present.includes(s)) throw new ApiError('NotFound', `no such service: ${s} (running: ${present.join(', ') || 'none'})`);
      await followLogs(ctx, namespace, name, services.length ? services : present, { follow: opts.follow, tail: opts.tail, signal });
      return 0;
    })));

  compose
    .command('config')
    .description('print the manifests up would apply (YAML), after interpolation and validation')
    .action(action((ctx) => composeConfig(ctx, globals())));
}
