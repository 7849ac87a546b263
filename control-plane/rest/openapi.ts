// /openapi/v2 and /openapi/v3. Skiff does not publish its schema yet, so both documents list no
// definitions: kubectl then finds no model for a kind and skips client-side validation (the
// server validates every field strictly anyway, naming unknown ones) and takes strategic merge
// keys from its compiled-in types. `kubectl explain` has nothing to show.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http.js';

// kube-openapi's name for it (Go's mime parser refuses the '@' form clients may send in Accept).
const PROTOBUF_V2 = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export function openApiV2(req: IncomingMessage, res: ServerResponse): void {
  if ((req.headers.accept ?? '').includes('proto-openapi.spec.v2')) {
    // An empty gnostic openapi_v2.Document: every field at its default encodes to no bytes.
    res.writeHead(200, { 'Content-Type': PROTOBUF_V2, 'Content-Length': 0 });
    res.end();
    return;
  }
  sendJson(res, 200, { swagger: '2.0', info: { title: 'Skiff', version: 'v1' }, paths: {}, definitions: {} });
}

export function openApiV3(): { paths: Record<string, never> } {
  return { paths: {} };
}
