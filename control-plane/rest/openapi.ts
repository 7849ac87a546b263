// /openapi/v2 and /openapi/v3. Skiff does not publish its schema yet, so both documents list no
// definitions: kubectl then finds no model for a kind and skips client-side validation (the
// server validates every field strictly anyway, naming unknown ones) and takes strategic merge
// keys from its compiled-in types. `kubectl explain` has nothing to show. The v2 document does
// list each kind's PATCH with its dryRun parameter, which older kubectl looks for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { KIND_NAMES, KINDS } from '../../proto/api/kinds.js';
import { groupVersionOf } from './router.js';
import { sendJson } from './http.js';

// kube-openapi's name for it (Go's mime parser refuses the '@' form clients may send in Accept).
const PROTOBUF_V2 = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export function openApiV2(req: IncomingMessage, res: ServerResponse): void {
  if ((req.headers.accept ?? '').includes('proto-openapi.spec.v2')) {
    const body = Buffer.from(dryRunDocument());
    res.writeHead(200, { 'Content-Type': PROTOBUF_V2, 'Content-Length': body.length });
    res.end(body);
    return;
  }
  sendJson(res, 200, { swagger: '2.0', info: { title: 'Skiff', version: 'v1' }, paths: {}, definitions: {} });
}

type Build = (w: BinaryWriter) => void;

function message(w: BinaryWriter, field: number, build: Build): void {
  const inner = new BinaryWriter();
  build(inner);
  w.uint32((field << 3) | 2).bytes(inner.finish());
}

function text(w: BinaryWriter, field: number, value: string): void {
  w.uint32((field << 3) | 2).string(value);
}

/**
 * A gnostic openapi_v2.Document with one path per kind: its PATCH operation carrying the
 * x-kubernetes-group-version-kind extension and a dryRun query parameter, which is how kubectl
 * (before 1.25) decides that `apply --dry-run=server` is supported. No definitions: no schema.
 */
export function dryRunDocument(): Uint8Array {
  const w = new BinaryWriter();
  text(w, 1, '2.0'); // swagger
  message(w, 8, (paths) => { // paths
    for (const k of KIND_NAMES) {
      const info = KINDS[k];
      const gv = groupVersionOf(info.apiVersion);
      const prefix = gv.group ? `/apis/${gv.group}/${gv.version}` : '/api/v1';
      const path = `${prefix}/${info.namespaced ? 'namespaces/{namespace}/' : ''}${info.plural}/{name}`;
      message(paths, 2, (named) => { // NamedPathItem
        text(named, 1, path);
        message(named, 2, (item) => { // PathItem
          message(item, 8, (op) => { // patch: Operation
            message(op, 8, (pi) => message(pi, 1, (p) => message(p, 2, (nb) => message(nb, 3, (q) => { // parameters: query dryRun
              text(q, 2, 'query');
              text(q, 4, 'dryRun');
            }))));
            message(op, 13, (ext) => { // vendor_extension: NamedAny
              text(ext, 1, 'x-kubernetes-group-version-kind');
              message(ext, 2, (any) => text(any, 2, `group: "${gv.group}"\nkind: ${info.kind}\nversion: ${gv.version}\n`));
            });
          });
        });
      });
    }
  });
  return w.finish();
}

export function openApiV3(): { paths: Record<string, never> } {
  return { paths: {} };
}
