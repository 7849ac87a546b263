// A certificate and its key in one PEM file, as the kubelet keeps its client certificate
// (kubelet-client-current.pem in --cert-dir). The agent writes it; `skiff up` checks it after a
// CA change.
export const KUBELET_CLIENT_CURRENT = 'kubelet-client-current.pem';

const CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;
const KEY_RE = /-----BEGIN (?:EC |)PRIVATE KEY-----[\s\S]+?-----END (?:EC |)PRIVATE KEY-----\n?/;

/** The certificate(s) and key of one PEM file holding both; undefined when either is missing. */
export function splitPemPair(pem: string): { cert: string; key: string } | undefined {
  const certs = pem.match(CERT_RE);
  const key = KEY_RE.exec(pem)?.[0];
  return certs && key ? { cert: certs.join(''), key } : undefined;
}
