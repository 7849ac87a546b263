// The cluster DNS server's public surface, for the agent to wire.
export { ClusterDnsServer, type ClusterDnsOptions } from './server.js';
export { buildZone, DEFAULT_DOMAIN, TTL, type Zone } from './zone.js';
export { resolve } from './resolve.js';
export { upstreamsFrom, type Upstream } from './forward.js';
export { parseResolvConf, readResolvConf, type ResolvConf } from './resolv-conf.js';
export { podDnsConfig, DnsPolicyError, type DnsConfig, type NodeDns, type PodDnsConfig, type PodDnsInput } from './pod-dns.js';
