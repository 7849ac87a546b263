#!/usr/bin/env node
// skiff-control-plane: the API server over etcd plus (through controller-hook.ts) the
// controllers. Stops cleanly on SIGTERM/SIGINT: API first, then controllers, informers, etcd.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CommanderError } from 'commander';
import { loadTokens } from './api/auth.js';
import { startApiServer } from './api/server.js';
import { parseConfig } from './config.js';
import { startControllers } from './controller-hook.js';
import { controllerRegistry } from './controllers/runtime/metrics.js';
import { SharedInformers } from './informers.js';
import { createLogger } from './log.js';
import { podStartupHandlers } from './pod-startup.js';
import { instrumentStore, metricsAccess, Metrics, serveMetrics } from './metrics.js';
import { loadKeyFile } from './storage/encryption.js';
import { newEtcdClient } from './storage/etcd-client.js';
import { Store } from './storage/store.js';
import { servingCertificate } from './rest/tls.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  let cfg;
  try {
    cfg = parseConfig(process.argv.slice(2), packageVersion());
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    throw e;
  }
  const log = createLogger(cfg.logLevel, cfg.identity);
  const tokens = cfg.tokenFile ? await loadTokens(cfg.tokenFile) : undefined;
  const metrics = new Metrics({ processMetrics: true });
  const etcdTls = cfg.etcdCaFile || cfg.etcdCertFile
    ? {
        ca: cfg.etcdCaFile ? await readFile(cfg.etcdCaFile, 'utf8') : '',
        cert: cfg.etcdCertFile ? await readFile(cfg.etcdCertFile, 'utf8') : undefined,
        key: cfg.etcdKeyFile ? await readFile(cfg.etcdKeyFile, 'utf8') : undefined,
      }
    : undefined;
  const client = newEtcdClient(cfg.etcdEndpoints, { tls: etcdTls });
  // Agents accept only the control plane's client certificate; without one, logs/exec/metrics fail naming the flags.
  const kubelet = {
    ca: cfg.kubeletCertificateAuthority ? await readFile(cfg.kubeletCertificateAuthority, 'utf8') : '',
    ...(cfg.kubeletClientCertificate
      ? { cert: await readFile(cfg.kubeletClientCertificate, 'utf8'), key: await readFile(cfg.kubeletClientKey, 'utf8') }
      : {}),
  };
  const encryption = cfg.encryptionKeyFile ? await loadKeyFile(cfg.encryptionKeyFile) : undefined;
  const store = instrumentStore(new Store(client, { prefix: cfg.etcdPrefix, eventTtlSeconds: cfg.eventTtlSeconds, encryption }), metrics);
  const informers = new SharedInformers(store, {
    onError: (e, attempt) => log.warn({ err: e.message, attempt }, 'informer retrying'),
  });
  log.info({ etcd: cfg.etcdEndpoints, prefix: cfg.etcdPrefix }, 'starting control plane');

  const controllers = await startControllers({
    store,
    informers,
    etcd: client,
    identity: cfg.identity,
    log,
    leaseTtlSeconds: cfg.leaderLeaseSeconds,
    nodeGracePeriodSeconds: cfg.nodeGracePeriodSeconds,
    podEvictionDelaySeconds: cfg.podEvictionDelaySeconds,
    disruption: cfg.disruption,
    clusterCIDR: cfg.clusterCIDR,
    nodeCIDRMaskSize: cfg.nodeCIDRMaskSize,
    hpaSyncPeriodSeconds: cfg.hpaSyncPeriodSeconds,
    disabled: !cfg.controllers,
    kubelet,
    clusterSigningCa: cfg.clusterSigningCertFile
      ? { cert: await readFile(cfg.clusterSigningCertFile, 'utf8'), key: await readFile(cfg.clusterSigningKeyFile, 'utf8') }
      : undefined,
    clusterSigningDurationMs: cfg.clusterSigningDurationMs,
  });
  const hostOf = (listen: string): string => listen.slice(0, listen.lastIndexOf(':'));
  const tls = await servingCertificate({
    certFile: cfg.tlsCertFile, keyFile: cfg.tlsPrivateKeyFile, certDir: cfg.certDir,
    hosts: [hostOf(cfg.listen), ...(cfg.restListen ? [hostOf(cfg.restListen)] : []), ...(cfg.metricsListen ? [hostOf(cfg.metricsListen)] : [])],
  });
  const clientCa = cfg.clientCaFile ? await readFile(cfg.clientCaFile, 'utf8') : undefined;
  const api = await startApiServer({
    store, informers, listen: cfg.listen, restListen: cfg.restListen, tls, clientCa, kubelet, tokens, log, metrics, identity: cfg.identity, leader: () => controllers.leader(),
    serviceRanges: cfg.serviceRanges, authorizationModes: cfg.authorizationModes, bootstrapTokenAuth: cfg.enableBootstrapTokenAuth,
  });
  informers.get('Pod').addHandlers(podStartupHandlers((s) => metrics.podStartup.observe(s)));
  if (encryption) {
    log.info({ writeKey: encryption.writeKey, keys: encryption.keys.length }, 'Secrets encrypted at rest');
    // After a key rotation: Secrets still under an older key (or plaintext) are re-written now.
    store.rewriteStale('Secret').then(
      (n) => n > 0 && log.info({ secrets: n, key: encryption.writeKey }, 're-encrypted Secrets with the current key'),
      (e: unknown) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 're-encrypting Secrets failed; they stay readable'),
    );
  }
  const metricsServer = cfg.metricsListen
    ? await serveMetrics(metrics, cfg.metricsListen, metricsAccess(cfg.metricsInsecure, tokens, Boolean(clientCa)), { ...tls, clientCa }, [controllerRegistry])
    : undefined;
  if (metricsServer) log.info({ port: metricsServer.port }, 'metrics on /metrics');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const done = async (): Promise<void> => {
      await api.stop();
      await controllers.stop();
      // An informer stuck reconnecting to a dead etcd must not keep the process alive.
      await Promise.race([informers.stop(), new Promise((r) => setTimeout(r, 5000).unref())]);
      metricsServer?.server.close();
      client.close();
    };
    done().then(
      () => log.info('stopped'),
      (e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`skiff-control-plane: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
