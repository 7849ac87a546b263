// `skiff get csr` columns, as kubectl prints them.
import { csrConditionText } from '../csr.js';
import type { CertificateSigningRequest } from '../../gen/skiff/v1/certificates.js';
import { age, humanDuration } from './age.js';
import type { Row } from './row.js';

export const certificateSigningRequests = {
  headers: ['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION'],
  wide: [] as string[],
  row: (c: CertificateSigningRequest, now: number): Row => [
    c.metadata?.name ?? '',
    age(c.metadata?.creationTimestamp, now),
    c.spec?.signerName ?? '',
    c.spec?.username ?? '',
    c.spec?.expirationSeconds === undefined ? '<none>' : humanDuration(c.spec.expirationSeconds * 1000),
    csrConditionText(c),
  ],
  wideRow: (): Row => [],
};
