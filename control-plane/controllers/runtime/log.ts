// The controllers' logger: pino, quiet by default in tests (SKIFF_LOG_LEVEL overrides).
import { pino, type Logger } from 'pino';

export type { Logger };

export const rootLogger: Logger = pino({
  name: 'skiff-controllers',
  level: process.env.SKIFF_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
});
