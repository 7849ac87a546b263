// The `skiff` command line: commander wiring only; each verb lives in commands/<verb>.ts.
// runCli is what bin/main calls and what end-to-end tests call in-process with their own
// streams and environment; it returns the exit code (0 ok, 1 error) instead of exiting.
import { autoscaleCommand, type AutoscaleOptions } from './commands/autoscale.js';
import { topCommand } from './commands/top.js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiError, isApiError } from '../proto/api/errors.js';
import { loadSettings, type Overrides } from './config.js';
import { DEFAULT_TIMEOUT_MS } from './client.js';
import { line, makeCtx, type Ctx, type Output } from './context.js';
import { parseDuration } from './duration.js';
import type { ReadStdin } from './manifests.js';
import { applyCommand } from './commands/apply.js';
import { configKubeconfig, configSet, configView } from './commands/config.js';
import { createConfigMap, createSecretDockerRegistry, createSecretGeneric } from './commands/create.js';
import { deleteCommand } from './commands/delete.js';
import { describeCommand } from './commands/describe.js';
import { getCommand } from './commands/get.js';
import { execCommand, type Terminal } from './commands/exec.js';
import { logsCommand } from './commands/logs.js';
import { cordonCommand, drainCommand } from './commands/node.js';
import { portForwardCommand } from './commands/port-forward.js';
import { rolloutHistory, rolloutPause, rolloutRestart, rolloutStatus, rolloutUndo } from './commands/rollout.js';
import { scaleCommand } from './commands/scale.js';
import { setImageCommand } from './commands/set.js';
import { clientVersion, versionCommand } from './commands/version.js';
import { canICommand, whoAmICommand } from './commands/auth.js';
import { certificateCommand } from './commands/certificate.js';
import { tokenCreateCommand, tokenDeleteCommand, tokenListCommand } from './commands/token.js';
import { registerDown } from './commands/down.js';
import { registerUp } from './commands/up.js';
import { registerHostLb } from './commands/host-lb.js';
import { registerCompose } from './compose/command.js';

export interface CliIO {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** Live Ink views when true (stdout is a terminal). */
  interactive: boolean;
  readStdin?: ReadStdin;
  /** The terminal of `exec -i/-t`; process.stdin/stdout when unset. */
  terminal?: Terminal;
  /**
   * Adds more verbs (e.g. `skiff up`/`down` from cli/up/) to the program; they report their
   * exit code through setExitCode.
   */
  register?: (program: Command, io: CliIO, setExitCode: (code: number) => void) => void;
}

interface GlobalOpts {
  server?: string;
  token?: string;
  namespace?: string;
  requestTimeout?: string;
  as?: string;
  asGroup?: string[];
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function parseBool(v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InvalidArgumentError('expected true or false');
}

function parseInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

export function formatError(e: unknown): string {
  const err = isApiError(e) ? e : new ApiError('Internal', e instanceof Error ? e.message : String(e));
  return `error (${err.code}): ${err.describe()}`;
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let code = 0;
  const program = new Command('skiff');
  program
    .description('Run replicated container services on a Skiff cluster (kubectl habits).')
    .version(clientVersion(), '--client-version', 'print the client version')
    .option('--server <host:port>', 'control plane address (env SKIFF_SERVER, config server; default 127.0.0.1:6443)')
    .option('--token <token>', 'bearer token (env SKIFF_TOKEN, config token)')
    .option('-n, --namespace <ns>', 'namespace (config namespace; default "default")')
    .option('--certificate-authority <file>', 'PEM CA that signed the control plane\'s certificate (env SKIFF_CERTIFICATE_AUTHORITY, config certificate-authority[-data]; default: the system\'s roots)')
    .option('--client-certificate <file>', 'PEM client certificate (config client-certificate[-data]); with --client-key')
    .option('--client-key <file>', 'PEM key of --client-certificate (config client-key[-data])')
    .option('--request-timeout <duration>', 'deadline of each request', '10s')
    .option('--as <user>', 'act as this user (the caller must be allowed to impersonate, like cluster-admin)')
    .option('--as-group <group>', 'act as a member of this group too (repeatable; with --as)', collect, [])
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');

  /** Wraps an action: builds the context, runs the verb, prints errors, records the exit code. */
  const action = (fn: (ctx: Ctx, ...rest: never[]) => Promise<number>) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const g = cmd.optsWithGlobals<GlobalOpts>();
      let ctx: Ctx | undefined;
      try {
        const flags: Overrides = {
          server: g.server, token: g.token, namespace: g.namespace,
          certificateAuthority: g.certificateAuthority, clientCertificate: g.clientCertificate, clientKey: g.clientKey,
        };
        const settings = await loadSettings(flags, io.env);
        ctx = makeCtx({
          settings,
          explicitNamespace: !!g.namespace,
          stdout: io.stdout,
          stderr: io.stderr,
          interactive: io.interactive,
          timeoutMs: g.requestTimeout ? parseDuration(g.requestTimeout, '--request-timeout') : DEFAULT_TIMEOUT_MS,
          impersonateUser: g.as,
          impersonateGroups: g.asGroup,
        });
        code = await (fn as (ctx: Ctx, ...rest: unknown[]) => Promise<number>)(ctx, ...args.slice(0, -1));
      } catch (e) {
        line(io.stderr, formatError(e));
        code = 1;
      } finally {
        ctx?.close();
      }
    };

  program
    .command('apply')
    .description('create or update objects from manifests (all documents in one transaction)')
    .option('-f, --filename <path>', 'file, directory or - for stdin (repeatable)', collect, [])
    .option('--dry-run', 'validate and show what would happen, change nothing', false)
    .action(action(async (ctx, opts: { filename: string[]; dryRun: boolean }) => {
      if (!opts.filename.length) throw new ApiError('BadRequest', 'give manifests with -f FILE, -f DIR or -f -');
      return applyCommand(ctx, { filenames: opts.filename, dryRun: opts.dryRun }, io.readStdin);
    }));

  program
    .command('get')
    .description('list objects: get TYPE [NAME...], get TYPE/NAME...')
    .argument('<type>', 'pods|po, deployments|deploy, replicasets|rs, nodes|no, namespaces|ns, events|ev, leases, configmaps|cm, secrets (or TYPE/NAME)')
    .argument('[names...]')
    .option('-o, --output <format>', 'wide, yaml, json or name')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier in (a,b)')
    .option('--field-selector <selector>', 'field selector, e.g. status.phase=Running')
    .option('-A, --all-namespaces', 'every namespace', false)
    .option('-w, --watch', 'keep watching for changes', false)
    .option('--no-headers', 'omit the header row')
    .action(action((ctx, type: string, names: string[], opts: { output?: string; selector?: string; fieldSelector?: string; allNamespaces: boolean; watch: boolean; headers: boolean }) =>
      getCommand(ctx, [type, ...names], { ...opts, noHeaders: !opts.headers })));

  program
    .command('describe')
    .description('show details of one object and its recent events')
    .argument('<type>', 'TYPE or TYPE/NAME')
    .argument('[name]')
    .action(action((ctx, type: string, name: string | undefined) => describeCommand(ctx, name ? [type, name] : [type])));

  program
    .command('delete')
    .description('delete objects and wait until they are gone')
    .argument('[args...]', 'TYPE NAME..., TYPE/NAME...')
    .option('-f, --filename <path>', 'delete the objects in these manifests (repeatable)', collect, [])
    .addOption(new Option('--wait [bool]', 'wait until the objects are gone').default(true).argParser(parseBool))
    .option('--grace-period <seconds>', 'seconds a pod gets to stop (0: at once)', parseInteger)
    .option('--cascade <policy>', 'background, foreground or orphan', 'background')
    .option('--timeout <duration>', 'give up waiting after this long (0: never)', '5m')
    .option('--ignore-not-found', 'treat "not found" as success', false)
    .action(action((ctx, args: string[], opts: { filename: string[]; wait: boolean; gracePeriod?: number; cascade: string; timeout: string; ignoreNotFound: boolean }) =>
      deleteCommand(ctx, args, { filenames: opts.filename, ...opts }, io.readStdin)));

  const create = program.command('create').description('create a ConfigMap or Secret from literals and files (kubectl create)');
  type DataOpts = { fromLiteral: string[]; fromFile: string[]; fromEnvFile: string[]; dryRun: boolean; output?: string };
  const dataFlags = (c: Command): Command => c
    .option('--from-literal <KEY=VALUE>', 'a key and its value (repeatable)', collect, [])
    .option('--from-file <[KEY=]PATH>', 'a file (key: its name, or KEY), or every file of a directory (repeatable)', collect, [])
    .option('--from-env-file <PATH>', 'KEY=VALUE lines of a file (repeatable)', collect, [])
    .option('--dry-run', 'validate on the server, create nothing', false)
    .option('-o, --output <format>', 'print the object: yaml, json or name');
  const sources = (o: DataOpts) => ({ literals: o.fromLiteral, files: o.fromFile, envFiles: o.fromEnvFile });
  dataFlags(create.command('configmap').alias('cm').description('create a ConfigMap').argument('<name>'))
    .action(action((ctx, name: string, o: DataOpts) => createConfigMap(ctx, name, sources(o), o, io.env)));
  const secret = create.command('secret').description('create a Secret: generic or docker-registry');
  dataFlags(secret.command('generic').description('create an Opaque (or --type) Secret from literals and files').argument('<name>'))
    .option('--type <type>', 'the Secret type', 'Opaque')
    .action(action((ctx, name: string, o: DataOpts & { type: string }) => createSecretGeneric(ctx, name, { ...sources(o), type: o.type }, o, io.env)));
  secret.command('docker-registry').description('create a kubernetes.io/dockerconfigjson Secret for imagePullSecrets').argument('<name>')
    .option('--docker-server <server>', 'registry host', 'https://index.docker.io/v1/')
    .option('--docker-username <user>', 'user name')
    .option('--docker-password <password>', 'password')
    .option('--docker-email <email>', 'email')
    .option('--dry-run', 'validate on the server, create nothing', false)
    .option('-o, --output <format>', 'print the object: yaml, json or name')
    .action(action((ctx, name: string, o: { dockerServer: string; dockerUsername?: string; dockerPassword?: string; dockerEmail?: string; dryRun: boolean; output?: string }) =>
      createSecretDockerRegistry(ctx, name, o, o)));

  program
    .command('scale')
    .description('set the replicas of a deployment or replicaset')
    .argument('<ref...>', 'deploy/NAME or deploy NAME')
    .option('--replicas <n>', 'new number of replicas')
    .action(action((ctx, ref: string[], opts: { replicas?: string }) => scaleCommand(ctx, ref, opts.replicas)));

  program
    .command('autoscale')
    .description('create a HorizontalPodAutoscaler for a deployment')
    .argument('<ref...>', 'deploy/NAME or deploy NAME')
    .option('--min <n>', 'lower limit of replicas (default 1)')
    .option('--max <n>', 'upper limit of replicas (required)')
    .option('--cpu-percent <p>', 'target average CPU utilization, percent of requests (default 80)')
    .option('--name <name>', 'name of the autoscaler (default: the deployment\'s)')
    .action(action((ctx, ref: string[], opts: AutoscaleOptions) => autoscaleCommand(ctx, ref, opts)));

  program
    .command('top')
    .description('CPU and memory use of nodes or pods (from the metrics API)')
    .argument('<type>', 'nodes|no or pods|po')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web')
    .option('-A, --all-namespaces', 'every namespace', false)
    .option('--containers', 'one line per container (pods)', false)
    .option('--no-headers', 'omit the header row')
    .action(action((ctx, type: string, opts: { selector?: string; allNamespaces: boolean; containers: boolean; headers: boolean }) =>
      topCommand(ctx, type, { ...opts, noHeaders: !opts.headers })));

  const set = program.command('set').description('change fields of objects');
  set
    .command('image')
    .description('set container images: set image deploy/NAME CONTAINER=IMAGE...')
    .argument('<args...>')
    .action(action((ctx, args: string[]) => setImageCommand(ctx, args)));

  const rollout = program.command('rollout').description('manage the rollout of a deployment');
  rollout
    .command('status')
    .description('watch the rollout until it completes; exit 1 if it fails or crash-loops')
    .argument('<ref...>', 'deploy/NAME')
    .option('--timeout <duration>', 'give up after this long (0: never)')
    .action(action((ctx, ref: string[], opts: { timeout?: string }) => rolloutStatus(ctx, ref, opts.timeout)));
  rollout
    .command('history')
    .argument('<ref...>', 'deploy/NAME')
    .option('--revision <n>', 'show the pod template of this revision', parseInteger, 0)
    .action(action((ctx, ref: string[], opts: { revision: number }) => rolloutHistory(ctx, ref, opts.revision)));
  rollout
    .command('undo')
    .argument('<ref...>', 'deploy/NAME')
    .option('--to-revision <n>', 'revision to roll back to (default: the previous one)', parseInteger, 0)
    .action(action((ctx, ref: string[], opts: { toRevision: number }) => rolloutUndo(ctx, ref, opts.toRevision)));
  rollout.command('pause').argument('<ref...>').action(action((ctx, ref: string[]) => rolloutPause(ctx, ref, true)));
  rollout.command('resume').argument('<ref...>').action(action((ctx, ref: string[]) => rolloutPause(ctx, ref, false)));
  rollout.command('restart').argument('<ref...>').action(action((ctx, ref: string[]) => rolloutRestart(ctx, ref)));

  program
    .command('logs')
    .description('print the logs of a pod (or of one pod of a deployment)')
    .argument('<ref...>', 'pod/NAME, NAME or deploy/NAME')
    .option('-c, --container <name>', 'container name')
    .option('-f, --follow', 'keep streaming', false)
    .option('--tail <n>', 'last N lines (-1: all)')
    .option('-p, --previous', 'logs of the previous (crashed) container', false)
    .option('--timestamps', 'prefix lines with their timestamps', false)
    .action(action((ctx, ref: string[], opts: { container?: string; follow: boolean; tail?: string; previous: boolean; timestamps: boolean }) =>
      logsCommand(ctx, ref, opts)));

  program
    .command('exec')
    .description('run a command in a container of a pod and exit with its exit code: exec POD [-c C] -- CMD...')
    .argument('<pod>', 'pod/NAME, NAME or deploy/NAME')
    .argument('[command...]', 'the command and its arguments, after --')
    .option('-c, --container <name>', 'container name (default: the only one)')
    .option('-i, --stdin', 'pass stdin to the command (a stream, CRI Exec)', false)
    .option('-t, --tty', 'run the command in a terminal (with -i and a terminal stdin)', false)
    .option('--timeout <duration>', 'kill the command after this long (default 300s)')
    .action(action((ctx, pod: string, command: string[], opts: { container?: string; stdin: boolean; tty: boolean; timeout?: string }) =>
      execCommand(ctx, pod, command, { ...opts, terminal: io.terminal })));

  program
    .command('port-forward')
    .description('forward 127.0.0.1:LOCAL to a port of a pod until interrupted: port-forward POD [LOCAL:]REMOTE...')
    .argument('<pod>', 'pod/NAME, NAME or deploy/NAME')
    .argument('<ports...>', 'LOCAL:REMOTE, REMOTE (same local port) or :REMOTE (a free local port)')
    .action(action(async (ctx, pod: string, ports: string[]) => {
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        return await portForwardCommand(ctx, pod, ports, ac.signal);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    }));

  program
    .command('cordon')
    .description('mark a node unschedulable: new pods are not placed there')
    .argument('<node...>', 'NODE or node/NODE')
    .action(action((ctx, node: string[]) => cordonCommand(ctx, node, true)));
  program
    .command('uncordon')
    .description('mark a node schedulable again')
    .argument('<node...>', 'NODE or node/NODE')
    .action(action((ctx, node: string[]) => cordonCommand(ctx, node, false)));
  program
    .command('drain')
    .description("cordon a node and evict its pods, keeping each Deployment's replicas - maxUnavailable available")
    .argument('<node...>', 'NODE or node/NODE')
    .option('--grace-period <seconds>', "seconds each pod gets to stop (-1: the pod's own)", parseInteger, -1)
    .option('--timeout <duration>', 'give up after this long (0: never)', '0')
    .option('--force', 'also delete pods that no controller will replace', false)
    .option('--ignore-daemonsets', 'accepted for kubectl compatibility (Skiff has no DaemonSets)', false)
    .action(action((ctx, node: string[], opts: { gracePeriod: number; timeout: string; force: boolean }) =>
      drainCommand(ctx, node, { gracePeriod: opts.gracePeriod, timeout: opts.timeout, force: opts.force })));

  program
    .command('version')
    .description('client and server versions')
    .option('--client', 'client version only', false)
    .action(action((ctx, opts: { client: boolean }) => versionCommand(ctx, opts.client)));

  const auth = program.command('auth').description('inspect authorization (kubectl auth)');
  auth
    .command('can-i')
    .description('check whether an action is allowed: prints yes or no, exits 0 or 1')
    .argument('<verb>', 'get, list, watch, create, update, patch, delete, impersonate, ... or *')
    .argument('<resource>', 'TYPE (deploy, pods, deployments.apps), TYPE/NAME, or a non-resource URL (/version)')
    .argument('[name]', 'the object\'s name')
    .option('-A, --all-namespaces', 'in every namespace', false)
    .option('--subresource <sub>', 'a subresource: log, exec, status, scale, ...')
    .option('-q, --quiet', 'print nothing; only the exit code tells', false)
    .action(action((ctx, verb: string, resource: string, name: string | undefined, opts: { allNamespaces: boolean; subresource?: string; quiet: boolean }) =>
      canICommand(ctx, verb, resource, name, opts)));
  auth
    .command('whoami')
    .description('the user and groups the control plane takes you for')
    .option('-o, --output <format>', 'json or yaml')
    .action(action((ctx, opts: { output?: string }) => whoAmICommand(ctx, opts.output)));

  const token = program.command('token').description('bootstrap tokens agents join with (kubeadm token)');
  token
    .command('create')
    .description('create a bootstrap token and print it ("<id>.<secret>")')
    .argument('[token]', 'use this token instead of a random one')
    .option('--ttl <duration>', 'time until the token expires and is deleted ("0": never)', '24h')
    .option('--description <text>', 'a note on what the token is for')
    .option('--groups <groups>', 'extra groups (comma list, each system:bootstrappers:...)')
    .action(action((ctx, given: string | undefined, opts: { ttl: string; description?: string; groups?: string }) => tokenCreateCommand(ctx, opts, given)));
  token
    .command('list')
    .description('list bootstrap tokens (ids only; the secret half is not shown)')
    .action(action((ctx) => tokenListCommand(ctx)));
  token
    .command('delete')
    .description('delete bootstrap tokens by id (or whole token)')
    .argument('<id...>', 'token id or token')
    .action(action((ctx, ids: string[]) => tokenDeleteCommand(ctx, ids)));

  const certificate = program.command('certificate').description('approve or deny certificate signing requests (kubectl certificate)');
  for (const verdict of ['approve', 'deny'] as const) {
    certificate
      .command(verdict)
      .description(`${verdict} certificate signing requests`)
      .argument('<name...>', 'CertificateSigningRequest names')
      .option('--force', 'write the condition again even when it is already there', false)
      .action(action((ctx, names: string[], opts: { force: boolean }) => certificateCommand(ctx, verdict, names, opts.force)));
  }

  const config = program.command('config').description('view or edit ~/.skiff/config.yaml');
  // Commander calls actions with (positional..., options, command).
  const cfgAction = (fn: (g: GlobalOpts & { raw?: boolean }, ...rest: string[]) => Promise<number>) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      try {
        code = await fn(cmd.optsWithGlobals<GlobalOpts & { raw?: boolean }>(), ...(args.slice(0, -2) as string[]));
      } catch (e) {
        line(io.stderr, formatError(e));
        code = 1;
      }
    };
  config
    .command('view')
    .option('--raw', 'show the token', false)
    .action(cfgAction((g) => configView(io.stdout, g, io.env, g.raw ?? false)));
  config.command('set-server').argument('<address>').action(cfgAction((_g, v) => configSet(io.stdout, io.env, 'server', v)));
  config.command('set-token').argument('<token>').action(cfgAction((_g, v) => configSet(io.stdout, io.env, 'token', v)));
  config
    .command('kubeconfig')
    .description('write a kubeconfig for kubectl and Kubernetes client libraries (the REST API, its CA, this token)')
    .option('--rest-server <url>', 'the REST API (default: https://<server host>:<server port + 1>)')
    .option('-o, --output <file>', 'write it here (mode 0600) instead of printing it')
    .action(cfgAction((g) => configKubeconfig(io.stdout, io.stderr, g, io.env)));
  config.command('set-namespace').argument('<namespace>').action(cfgAction((_g, v) => configSet(io.stdout, io.env, 'namespace', v)));

  const host = { stdout: io.stdout, stderr: io.stderr, env: io.env, interactive: io.interactive, setExitCode: (c: number) => (code = c) };
  registerUp(program, host);
  registerDown(program, host);
  registerHostLb(program, host);
  registerCompose(program, action, io.env);
  io.register?.(program, io, (c) => (code = c));

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    line(io.stderr, formatError(e));
    return 1;
  }
  return code;
}
