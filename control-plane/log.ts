// The control plane's logger: pino JSON lines on stderr (stdout stays free for tools).
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function createLogger(level: string, identity = ''): Logger {
  return pino({ level, base: identity ? { identity } : {} }, pino.destination(2));
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
