// The HTTP plumbing of the REST gateway: reading a bounded body (JSON or YAML), writing JSON,
// and the query parameters every verb shares.
import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import { errors } from '../../proto/api/errors.js';
import { HttpError } from './status.js';

/** kube-apiserver's limit on a request body (3 MiB); larger ones are 413. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return (await readBodyBytes(req, limit)).toString('utf8');
}

/** The body as bytes (protobuf bodies are not text). */
export async function readBodyBytes(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size > limit) throw new HttpError('RequestEntityTooLarge', `the request body is larger than ${limit} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** The request body as a JSON value (application/json, or YAML when the content type says so). */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? 'application/json';
  // client-go's typed clients (kubectl drain, ...) write built-in kinds as protobuf; only CSR
  // approval/status bodies are read that way (csr-protobuf.ts).
  if (/protobuf/i.test(type)) {
    throw new HttpError('UnsupportedMediaType', `request bodies of type "${type}" are not read by Skiff: send application/json (kubectl patch/apply/replace do)`);
  }
  const text = await readBody(req);
  if (!text.trim()) throw errors.badRequest('the request body is empty');
  try {
    return /yaml/i.test(type) ? (YAML.parse(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (e) {
    throw errors.badRequest(`the request body is not valid ${/yaml/i.test(type) ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** dryRun=All (the only value Kubernetes defines) as a boolean; anything else is BadRequest. */
export function dryRunOf(values: readonly string[]): boolean {
  for (const v of values) {
    if (v !== 'All') throw errors.badRequest(`unsupported dryRun value "${v}"; the only one is "All"`);
  }
  return values.length > 0;
}

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

/** A non-negative integer query parameter; undefined when absent, BadRequest when malformed. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`${name} must be an integer, got "${v}"`);
  return Number(v);
}
