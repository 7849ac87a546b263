// Generated object names, as Kubernetes makes them: a prefix plus 5 characters from an
// alphabet without vowels or look-alikes (no accidental words, no 0/o or 1/l confusion).
import { randomInt } from 'node:crypto';

export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += SAFE_ALPHABET[randomInt(SAFE_ALPHABET.length)];
  return s;
}

/** Encodes a 32-bit number in the safe alphabet (pod-template-hash), like rand.SafeEncodeString. */
export function safeEncode(n: number): string {
  const digits = String(n >>> 0);
  let s = '';
  for (const d of digits) s += SAFE_ALPHABET[d.charCodeAt(0) % SAFE_ALPHABET.length];
  return s;
}
