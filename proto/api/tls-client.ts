// TLS for clients of the control plane (CLI, agent, tests): gRPC channel credentials that verify
// the server against the cluster CA and, optionally, present a client certificate. With several
// control planes (endpoints.ts) grpc-js checks the certificate against the first address
// whichever it reached, so a certificate valid for any listed host is accepted: each is a
// control plane of this cluster, signed by the same CA.
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { stripScheme } from './endpoints.js';

/** PEM texts: the CA that signed the server's certificate, and our own certificate + key. */
export interface ClientTls {
  /** Empty: the system's roots. */
  ca: string;
  cert?: string;
  key?: string;
}

/** The hosts of a server list ("a:1,b:2", "[::1]:6443"). */
export function serverHosts(servers: string): string[] {
  return servers.split(',').map(stripScheme).filter(Boolean).map((s) => {
    const i = s.lastIndexOf(':');
    const host = i > 0 && /^\d+$/.test(s.slice(i + 1)) ? s.slice(0, i) : s;
    return host.replace(/^\[|\]$/g, '');
  });
}

/**
 * grpc-js puts the dialled host in the TLS server name (SNI) even when it is an IP address,
 * which TLS does not allow and Node warns about (DEP0123). Left unset for an IP, Node sends no
 * server name; the certificate is still checked against the address (checkServerIdentity).
 * grpc-js keeps the options on its connector (channel-credentials.ts getConnectionOptions); if
 * that shape ever changes, nothing is altered and only the warning comes back.
 */
export function withoutIpServerName(creds: ChannelCredentials): ChannelCredentials {
  const create = creds._createSecureConnector.bind(creds);
  creds._createSecureConnector = (...args: Parameters<ChannelCredentials['_createSecureConnector']>) => {
    const connector = create(...args);
    const o = (connector as unknown as { connectionOptions?: { servername?: string } }).connectionOptions;
    if (o && typeof o.servername === 'string' && isIP(o.servername)) delete o.servername;
    return connector;
  };
  return creds;
}

export function grpcCredentials(servers: string, tls: ClientTls): ChannelCredentials {
  if (Boolean(tls.cert) !== Boolean(tls.key)) throw new Error('a client certificate needs its key (and the key its certificate)');
  const hosts = serverHosts(servers);
  return withoutIpServerName(credentials.createSsl(
    tls.ca ? Buffer.from(tls.ca) : null,
    tls.key ? Buffer.from(tls.key) : null,
    tls.cert ? Buffer.from(tls.cert) : null,
    {
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        for (const h of hosts) if (checkServerIdentity(h, cert) === undefined) return undefined;
        return checkServerIdentity(host, cert);
      },
    },
  ));
}
