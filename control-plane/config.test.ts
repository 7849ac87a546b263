import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from './config.js';

describe('parseConfig', () => {
  it('has the documented defaults', () => {
    const c = parseConfig([]);
    expect(c).toMatchObject({
      etcdEndpoints: ['http://127.0.0.1:2379'], listen: '127.0.0.1:6443', metricsListen: '', tokenFile: '',
      etcdPrefix: '/skiff', logLevel: 'info', eventTtlSeconds: 3600, clusterCIDR: '', nodeCIDRMaskSize: 24, hpaSyncPeriodSeconds: 15,
      enableBootstrapTokenAuth: false, clusterSigningCertFile: '', clusterSigningDurationMs: 8760 * 3600_000,
    });
    expect(c.identity).toMatch(/-\d+$/);
  });

  it('reads every flag', () => {
    const c = parseConfig([
      '--etcd-endpoints', 'http://a:2379, http://b:2379', '--listen', '0.0.0.0:7443', '--metrics-listen', '127.0.0.1:9464',
      '--token-file', '/etc/skiff/tokens', '--identity', 'cp-1', '--etcd-prefix', '/prod', '--log-level', 'debug',
      '--no-controllers', '--leader-lease-seconds', '6', '--node-grace-period', '8', '--pod-eviction-delay', '9',
      '--event-ttl-seconds', '120', '--service-cluster-ip-range', '10.100.0.0/20', '--service-node-port-range', '31000-31999',
      '--cluster-cidr', '10.244.0.0/16', '--node-cidr-mask-size', '26', '--encryption-key-file', '/etc/skiff/keys.yaml', '--horizontal-pod-autoscaler-sync-period', '5',
      '--node-eviction-rate', '0.5', '--secondary-node-eviction-rate', '0', '--unhealthy-zone-threshold', '0.7', '--large-cluster-size-threshold', '10',
      '--tls-cert-file', '/pki/apiserver.crt', '--tls-private-key-file', '/pki/apiserver.key', '--client-ca-file', '/pki/ca.crt',
      '--enable-bootstrap-token-auth', '--cluster-signing-cert-file', '/pki/ca.crt', '--cluster-signing-key-file', '/pki/ca.key', '--cluster-signing-duration', '720h',
    ]);
    expect(c).toEqual({
      etcdEndpoints: ['http://a:2379', 'http://b:2379'], listen: '0.0.0.0:7443', metricsListen: '127.0.0.1:9464', metricsInsecure: false,
      restListen: '0.0.0.0:7444', tlsCertFile: '/pki/apiserver.crt', tlsPrivateKeyFile: '/pki/apiserver.key', certDir: '', clientCaFile: '/pki/ca.crt', etcdCaFile: '', etcdCertFile: '', etcdKeyFile: '', kubeletCertificateAuthority: '', kubeletClientCertificate: '', kubeletClientKey: '',
      tokenFile: '/etc/skiff/tokens', identity: 'cp-1', etcdPrefix: '/prod', logLevel: 'debug',
      controllers: false, leaderLeaseSeconds: 6, nodeGracePeriodSeconds: 8, podEvictionDelaySeconds: 9, eventTtlSeconds: 120,
      disruption: { evictionRate: 0.5, secondaryEvictionRate: 0, unhealthyZoneThreshold: 0.7, largeClusterThreshold: 10 },
      serviceRanges: {
        clusterIPs: { cidr: '10.100.0.0/20', network: 0x0a640000, size: 4094 },
        nodePorts: { text: '31000-31999', base: 31000, size: 1000 },
      },
      clusterCIDR: '10.244.0.0/16', nodeCIDRMaskSize: 26, encryptionKeyFile: '/etc/skiff/keys.yaml', hpaSyncPeriodSeconds: 5,
      authorizationModes: ['Node', 'RBAC'],
      enableBootstrapTokenAuth: true, clusterSigningCertFile: '/pki/ca.crt', clusterSigningKeyFile: '/pki/ca.key', clusterSigningDurationMs: 720 * 3600_000,
    });
  });

  it('takes kube-apiserver\'s --authorization-mode values', () => {
    expect(parseConfig(['--authorization-mode', 'RBAC,AlwaysAllow']).authorizationModes).toEqual(['RBAC', 'AlwaysAllow']);
    expect(() => parseConfig(['--authorization-mode', 'Webhook'])).toThrow(/unknown mode "Webhook"/);
  });

  it('serves /metrics only with tokens or client certificates to check, or --metrics-insecure', () => {
    expect(() => parseConfig(['--metrics-listen', '127.0.0.1:9464'])).toThrow(/--metrics-listen needs --token-file .*--client-ca-file .* or --metrics-insecure/);
    expect(parseConfig(['--metrics-listen', '127.0.0.1:9464', '--client-ca-file', '/ca.crt']).clientCaFile).toBe('/ca.crt');
    expect(parseConfig(['--metrics-listen', '127.0.0.1:9464', '--metrics-insecure']).metricsInsecure).toBe(true);
  });

  it('defaults the controller timings so a dead node is replaced within 60 s', () => {
    const c = parseConfig([]);
    expect(c.controllers).toBe(true);
    expect(c.nodeGracePeriodSeconds + c.podEvictionDelaySeconds).toBeLessThan(60);
    expect(c.disruption).toEqual({ evictionRate: 0.1, secondaryEvictionRate: 0.01, unhealthyZoneThreshold: 0.55, largeClusterThreshold: 50 });
    expect(() => parseConfig(['--unhealthy-zone-threshold', '2'])).toThrow(/from 0 to 1/);
  });

  it.each([
    [['--listen', 'nowhere'], /--listen wants host:port/],
    [['--log-level', 'loud'], /Allowed choices are/],
    [['--etcd-prefix', 'skiff'], /must start with "\/"/],
    [['--bogus'], /unknown option/],
    [['--node-grace-period', '0'], /positive whole number/],
    [['--service-cluster-ip-range', '10.96.0.1/16'], /host bits set/],
    [['--service-node-port-range', '30000'], /not a port range/],
    [['--cluster-cidr', '10.244.0.1/16'], /--cluster-cidr 10\.244\.0\.1\/16 .*host bits set/],
    [['--cluster-cidr', '10.244.0.0/16', '--node-cidr-mask-size', '12'], /between the cluster CIDR's 16 and 32/],
    [['--cluster-signing-cert-file', '/pki/ca.crt'], /--cluster-signing-cert-file and --cluster-signing-key-file go together/],
    [['--cluster-signing-duration', '5m'], /at least 10m/],
  ])('refuses %j', (argv, msg) => {
    // commander also prints the error; keep the test output clean.
    const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => parseConfig(argv)).toThrow(msg);
    } finally {
      quiet.mockRestore();
    }
  });
});
