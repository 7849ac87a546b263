// healthcheck -> exec probes. Compose's check is one loop: healthy after one success,
// unhealthy after `retries` failures in a row, failures during start_period not counted. On
// Skiff: a readiness probe (healthy = Ready, so Services and depends_on: service_healthy follow
// it), a liveness probe (an unhealthy container is restarted, as Swarm replaces unhealthy tasks)
// and, with start_period, a startup probe that holds both back while the service starts.
import { truthy, type HealthcheckSpec, type JsonMap } from '../model.js';
import { int, refuse, seconds, type TranslateContext } from './context.js';

// Docker's defaults.
const INTERVAL = 30;
const TIMEOUT = 30;
const RETRIES = 3;
const START_INTERVAL = 5;

export interface Probes {
  readinessProbe: JsonMap;
  livenessProbe: JsonMap;
  startupProbe?: JsonMap;
}

/** The probes of a healthcheck; undefined when there is none or it is disabled. */
export function probes(ctx: TranslateContext, service: string, hc: HealthcheckSpec | undefined): Probes | undefined {
  if (!hc) return undefined;
  const base = `services.${service}.healthcheck`;
  if (hc.disable !== undefined && truthy(hc.disable)) return undefined;
  const test = hc.test;
  if (test === undefined) {
    refuse(ctx, `${base}.test`, 'required: Skiff does not read the image\'s HEALTHCHECK; give the test here');
    return undefined;
  }
  let command: string[];
  if (typeof test === 'string') command = ['/bin/sh', '-c', test];
  else if (test[0] === 'NONE') return undefined;
  else if (test[0] === 'CMD') command = test.slice(1);
  else if (test[0] === 'CMD-SHELL') command = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else {
    refuse(ctx, `${base}.test`, `must start with "CMD", "CMD-SHELL" or "NONE" (or be a string for the shell), not "${test[0] ?? ''}"`);
    return undefined;
  }
  if (command.length === 0) {
    refuse(ctx, `${base}.test`, 'the command is empty');
    return undefined;
  }
  const period = Math.max(1, seconds(ctx, `${base}.interval`, hc.interval) ?? INTERVAL);
  const timeout = Math.max(1, seconds(ctx, `${base}.timeout`, hc.timeout) ?? TIMEOUT);
  const retries = Math.max(1, int(ctx, `${base}.retries`, hc.retries) ?? RETRIES);
  const exec = { command };
  const out: Probes = {
    readinessProbe: { exec, periodSeconds: period, timeoutSeconds: timeout, successThreshold: 1, failureThreshold: retries },
    livenessProbe: { exec, periodSeconds: period, timeoutSeconds: timeout, successThreshold: 1, failureThreshold: retries },
  };
  const start = seconds(ctx, `${base}.start_period`, hc.start_period);
  if (start !== undefined && start > 0) {
    const every = Math.max(1, seconds(ctx, `${base}.start_interval`, hc.start_interval) ?? START_INTERVAL);
    // The start period's checks, then `retries` more that count, as Docker does after it.
    out.startupProbe = { exec, periodSeconds: every, timeoutSeconds: timeout, successThreshold: 1, failureThreshold: Math.ceil(start / every) + retries };
  }
  return out;
}
