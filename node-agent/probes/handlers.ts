// The three probe actions: httpGet (2xx/3xx passes), tcpSocket (a connection passes) and exec
// (exit code 0 passes, run through the runtime).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container, Probe } from '../../proto/gen/skiff/v1/core.js';
import type { IntOrString } from '../../proto/gen/skiff/v1/meta.js';
import type { ContainerHandle, Runtime } from '../runtime/runtime.js';
import type { ProbeCheck } from './worker.js';

export class ProbeConfigError extends Error {}

/** A port given as a number or as the name of one of the container's ports. */
export function resolvePort(port: IntOrString | undefined, container: Container): number {
  if (!port) throw new ProbeConfigError('probe has no port');
  if (port.type === 0) return port.intVal;
  const named = container.ports.find((p) => p.name === port.strVal);
  if (named) return named.containerPort;
  const n = Number(port.strVal);
  if (Number.isInteger(n) && n > 0) return n;
  throw new ProbeConfigError(`probe port "${port.strVal}" is not a port name of container ${container.name}`);
}

export interface ProbeTarget {
  container: Container;
  /** Host to probe when the probe names none: the pod IP, or 127.0.0.1 for host networking. */
  defaultHost: string;
  runtime: Runtime;
  handle: () => ContainerHandle | undefined;
}

/** Builds the check for a probe, or throws ProbeConfigError when it has no usable action. */
export function probeCheck(p: Probe, t: ProbeTarget): ProbeCheck {
  if (p.httpGet) {
    const g = p.httpGet;
    const port = resolvePort(g.port, t.container);
    const host = g.host || t.defaultHost;
    const https = g.scheme.toUpperCase() === 'HTTPS';
    const path = g.path || '/';
    const headers: Record<string, string> = { 'User-Agent': 'skiff-probe/1.0', Accept: '*/*' };
    for (const h of g.httpHeaders) headers[h.name] = h.value;
    return (timeoutMs) => httpCheck(https, host, port, path, headers, timeoutMs);
  }
  if (p.tcpSocket) {
    const port = resolvePort(p.tcpSocket.port, t.container);
    const host = p.tcpSocket.host || t.defaultHost;
    return (timeoutMs) => tcpCheck(host, port, timeoutMs);
  }
  if (p.exec) {
    const cmd = p.exec.command;
    if (cmd.length === 0) throw new ProbeConfigError('exec probe has an empty command');
    return async (timeoutMs) => {
      const h = t.handle();
      if (!h) return false;
      const r = await t.runtime.exec(h, cmd, Math.max(1, Math.ceil(timeoutMs / 1000)));
      return r.exitCode === 0;
    };
  }
  throw new ProbeConfigError('probe has none of exec, httpGet, tcpSocket');
}

export function httpCheck(
  https: boolean,
  host: string,
  port: number,
  path: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const req = (https ? httpsRequest : httpRequest)(
      { host, port, path, method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

export function tcpCheck(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
