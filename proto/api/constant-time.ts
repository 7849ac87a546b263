// One comparison for secrets (tokens, bootstrap token halves): its time does not depend on
// where the texts first differ, so a caller cannot guess a secret byte by byte.
import { timingSafeEqual } from 'node:crypto';

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
