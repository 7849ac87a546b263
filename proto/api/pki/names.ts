// Subjects and subject alternative names: the identity a certificate carries is its subject's
// CN (user) and O values (groups), as Kubernetes' x509 authenticator reads them.
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

export interface Subject {
  commonName: string;
  organizations?: readonly string[];
}

export function toName(s: Subject): x509.Name {
  const parts: Record<string, string[]>[] = [];
  if (s.organizations?.length) parts.push({ O: [...s.organizations] });
  parts.push({ CN: [s.commonName] });
  return new x509.Name(parts);
}

export function fromName(n: x509.Name): Subject {
  return { commonName: n.getField('CN')[0] ?? '', organizations: n.getField('O') };
}

/** Host names and IP addresses as one SAN extension (each entry classified by its form). */
export function sanExtension(hosts: readonly string[]): x509.SubjectAlternativeNameExtension {
  const uniq = [...new Set(hosts.map((h) => h.replace(/^\[|\]$/g, '')).filter(Boolean))];
  return new x509.SubjectAlternativeNameExtension(uniq.map((h) => ({ type: isIP(h) ? 'ip' as const : 'dns' as const, value: h })));
}

export function sanHosts(ext: x509.Extension | null): string[] {
  if (!ext) return [];
  const san = ext instanceof x509.SubjectAlternativeNameExtension ? ext : new x509.SubjectAlternativeNameExtension(ext.rawData);
  return san.names.items.filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => n.value);
}
