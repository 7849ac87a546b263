// Deterministic nft object names in kube-proxy's shape: `<prefix>-<HASH>-<ns>/<svc>/<proto>/<port>`
// (and `__<ip>/<port>` for endpoints). The readable tail is for people reading `nft list`; the
// hash keeps names unique when a long tail has to be cut to fit nft's 255-byte name limit.
import { createHash } from 'node:crypto';

/** Longest name we emit; the kernel allows 255 bytes (NFT_CHAIN_MAXNAMELEN 256 with the NUL). */
export const MAX_NAME = 200;

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** First 8 base32 characters (40 bits) of the SHA-256 of s. */
export function hash8(s: string): string {
  const d = createHash('sha256').update(s).digest();
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of d) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 8) {
      out += B32[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === 8) break;
    acc &= (1 << bits) - 1;
  }
  return out;
}

// Kubernetes names are DNS labels already; anything else (or a stray quote) must not reach
// the nft parser unquoted.
const unsafe = /[^a-zA-Z0-9/._-]/g;

// Names repeat from sync to sync and SHA-256 per name dominates generation time: remember
// them (bounded, cleared wholesale when it grows past what a large cluster needs).
const memo = new Map<string, string>();
const MEMO_MAX = 200_000;

function named(prefix: string, hashInput: string, readable: string): string {
  const key = `${prefix}\0${hashInput}\0${readable}`;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  if (memo.size >= MEMO_MAX) memo.clear();
  const name = computeName(prefix, hashInput, readable);
  memo.set(key, name);
  return name;
}

function computeName(prefix: string, hashInput: string, readable: string): string {
  const full = `${prefix}-${hash8(hashInput)}-${readable.replace(unsafe, '_')}`;
  return full.length > MAX_NAME ? full.slice(0, MAX_NAME) : full;
}

/** "ns/svc/tcp/port": kube-proxy's ServicePortName string. */
export function servicePortName(namespace: string, name: string, protocol: string, portName: string): string {
  return `${namespace}/${name}/${protocol.toLowerCase()}/${portName}`;
}

export function serviceChainName(spn: string): string {
  return named('service', spn, spn);
}

export function externalChainName(spn: string): string {
  return named('external', spn, spn);
}

export function endpointChainName(spn: string, ip: string, port: number): string {
  const ep = `${spn}__${ip}/${port}`;
  return named('endpoint', ep, ep);
}

/** The timeout is part of the hash so a changed timeout makes a new set instead of editing a live one. */
export function affinitySetName(spn: string, ip: string, port: number, timeoutSeconds: number): string {
  const ep = `${spn}__${ip}/${port}`;
  return named('affinity', `${ep}@${timeoutSeconds}`, ep);
}
