// The CLI's error line ("error (Code): message") without importing program.ts, which registers
// these commands (an import back would be a cycle).
import { ApiError, isApiError } from '../../proto/api/errors.js';

export function errorLine(e: unknown): string {
  const err = isApiError(e) ? e : new ApiError('Internal', e instanceof Error ? e.message : String(e));
  return `error (${err.code}): ${err.describe()}`;
}
