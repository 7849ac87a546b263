// The one protobuf body Skiff's REST API reads besides access reviews: a CertificateSigningRequest
// written to /approval or /status by client-go's typed client (kubectl certificate approve|deny),
// which always sends built-in kinds as Kubernetes protobuf ("k8s\0" + runtime.Unknown, the object
// in field 2, Kubernetes' own field numbers). Only what those subresources take is read: the
// name, resourceVersion, the conditions and the certificate.
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { errors } from '../../proto/api/errors.js';
import type { JsonObject } from '../../proto/api/manifest.js';

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Every field of a message: number -> values (length-delimited as bytes, varints as numbers). */
function fields(buf: Uint8Array): Map<number, (Uint8Array | number)[]> {
  const out = new Map<number, (Uint8Array | number)[]>();
  const r = new BinaryReader(buf);
  while (r.pos < r.len) {
    const [no, wireType] = r.tag();
    let v: Uint8Array | number | undefined;
    if (wireType === WireType.LengthDelimited) v = r.bytes();
    else if (wireType === WireType.Varint) v = Number(r.int64());
    else r.skip(wireType);
    if (v !== undefined) out.set(no, [...(out.get(no) ?? []), v]);
  }
  return out;
}

const bytesOf = (f: Map<number, (Uint8Array | number)[]>, no: number): Uint8Array | undefined => {
  const v = f.get(no)?.[0];
  return v instanceof Uint8Array ? v : undefined;
};
const textOf = (f: Map<number, (Uint8Array | number)[]>, no: number): string => Buffer.from(bytesOf(f, no) ?? []).toString('utf8');

/** metav1.Time {seconds = 1, nanos = 2} as RFC 3339. */
function timeOf(b: Uint8Array | undefined): string {
  if (!b) return '';
  const s = fields(b).get(1)?.[0];
  return typeof s === 'number' ? new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
}

/** A CertificateSigningRequest protobuf body as the JSON manifest the REST handlers take. */
export function csrFromProtobuf(body: Buffer): JsonObject {
  if (!body.subarray(0, 4).equals(PROTOBUF_MAGIC)) throw errors.badRequest('the protobuf body lacks the Kubernetes envelope ("k8s\\0")');
  const raw = bytesOf(fields(body.subarray(4)), 2);
  if (!raw) throw errors.badRequest('the protobuf envelope carries no object');
  const csr = fields(raw);
  const meta = fields(bytesOf(csr, 1) ?? new Uint8Array());
  const status = fields(bytesOf(csr, 3) ?? new Uint8Array());
  const conditions = (status.get(1) ?? []).filter((c): c is Uint8Array => c instanceof Uint8Array).map((c) => {
    const f = fields(c);
    return {
      type: textOf(f, 1), status: textOf(f, 6), reason: textOf(f, 2), message: textOf(f, 3),
      lastUpdateTime: timeOf(bytesOf(f, 4)), lastTransitionTime: timeOf(bytesOf(f, 5)),
    };
  });
  const certificate = bytesOf(status, 2);
  return {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
    metadata: { name: textOf(meta, 1), resourceVersion: textOf(meta, 6) },
    status: { conditions, ...(certificate?.length ? { certificate: Buffer.from(certificate).toString('base64') } : {}) },
  };
}
