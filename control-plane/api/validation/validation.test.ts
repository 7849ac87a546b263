import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../proto/api/errors.js';
import { fromManifest, type JsonObject } from '../../../proto/api/manifest.js';
import { applyDefaults } from '../defaults.js';
import { validateObject, validateUpdate } from './index.js';
import { dns1123Label, dns1123Subdomain, portName } from './names.js';

type Edit = (d: Deployment) => void;
interface Deployment {
  metadata: JsonObject & { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: JsonObject & {
    selector: JsonObject & { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: JsonObject & { containers: (JsonObject & { resources?: JsonObject })[] } };
    strategy?: JsonObject;
  };
}

function deployment(edit: Edit = () => undefined): JsonObject {
  const d: Deployment = {
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } },
    },
  };
  edit(d);
  return { apiVersion: 'apps/v1', kind: 'Deployment', ...d };
}

function problems(doc: JsonObject): string[] {
  const { info, object } = fromManifest(doc);
  applyDefaults(info, object);
  return validateObject(info, object, 'src').map((c) => `${c.field}: ${c.message}`);
}

const c0 = (d: Deployment) => d.spec.template.spec.containers[0]!;

describe('validateObject', () => {
  it('accepts a plain Deployment', () => {
    expect(problems(deployment())).toEqual([]);
  });

  it.each<[string, Edit, string[]]>([
    ['name must be a DNS subdomain', (d) => (d.metadata.name = 'Web_1'), ['metadata.name: "Web_1" must be a lowercase RFC 1123 subdomain']],
    ['name is required', (d) => delete d.metadata.name, ['metadata.name: required']],
    ['bad label key and value', (d) => (d.metadata.labels = { 'a b': 'x', ok: 'not ok' }), ['metadata.labels[a b]: "a b" is not a valid label key', 'metadata.labels[ok]: "not ok" is not a valid label value']],
    ['selector is required', (d) => delete (d.spec as Partial<Deployment['spec']>).selector, ['spec.selector: required']],
    ['empty selector', (d) => (d.spec.selector.matchLabels = {}), ['spec.selector: empty selector is invalid']],
    ['selector must match the template', (d) => (d.spec.template.metadata.labels = { app: 'other' }), ['spec.template.metadata.labels: `selector` does not match template `labels`']],
    ['image is required', (d) => delete c0(d).image, ['spec.template.spec.containers[0].image: required']],
    ['preStop needs exactly one handler', (d) => (c0(d).lifecycle = { preStop: { sleep: { seconds: -1 }, exec: { command: [] } } }), [
      'spec.template.spec.containers[0].lifecycle.preStop: may not specify more than 1 handler type (got exec, sleep)',
      'spec.template.spec.containers[0].lifecycle.preStop.exec.command: required',
      'spec.template.spec.containers[0].lifecycle.preStop.sleep.seconds: must be greater than or equal to 0',
    ]],
    ['dnsPolicy None needs nameservers', (d) => (d.spec.template.spec.dnsPolicy = 'None'), ['spec.template.spec.dnsConfig.nameservers: must provide at least one DNS nameserver when DNS policy is None']],
    ['dnsConfig nameservers are IPs, at most 3', (d) => (d.spec.template.spec.dnsConfig = { nameservers: ['10.0.0.1', 'dns', '10.0.0.3', '10.0.0.4'], options: [{ value: '2' }] }), [
      'spec.template.spec.dnsConfig.nameservers: must not have more than 3 nameservers: 10.0.0.1, dns, 10.0.0.3, 10.0.0.4',
      'spec.template.spec.dnsConfig.nameservers[1]: must be a valid IP address, got "dns"',
      'spec.template.spec.dnsConfig.options[0].name: required',
    ]],
    ['container names are unique', (d) => d.spec.template.spec.containers.push({ name: 'web', image: 'x:1' }), ['spec.template.spec.containers[1].name: duplicate container name "web"']],
    ['container name is a DNS label', (d) => (c0(d).name = 'my.web'), ['spec.template.spec.containers[0].name: "my.web" must be a lowercase RFC 1123 label']],
    ['no containers', (d) => (d.spec.template.spec.containers = []), ['spec.template.spec.containers: required']],
    ['ports 1-65535', (d) => (c0(d).ports = [{ containerPort: 0 }, { containerPort: 65536 }, { containerPort: 80, protocol: 'HTTP' }]), [
      'spec.template.spec.containers[0].ports[0].containerPort: 0 must be between 1 and 65535',
      'spec.template.spec.containers[0].ports[1].containerPort: 65536 must be between 1 and 65535',
      'spec.template.spec.containers[0].ports[2].protocol: unsupported value "HTTP"',
    ]],
    ['probe needs exactly one handler', (d) => (c0(d).readinessProbe = { periodSeconds: 5 }), ['spec.template.spec.containers[0].readinessProbe: must specify a handler type']],
    ['probe with two handlers', (d) => (c0(d).livenessProbe = { exec: { command: ['x'] }, tcpSocket: { port: 80 } }), ['spec.template.spec.containers[0].livenessProbe: may not specify more than 1 handler type']],
    ['probe thresholds', (d) => (c0(d).livenessProbe = { exec: { command: ['x'] }, failureThreshold: 0, successThreshold: 2 }), [
      'spec.template.spec.containers[0].livenessProbe.failureThreshold: must be greater than or equal to 1',
      'spec.template.spec.containers[0].livenessProbe.successThreshold: must be 1',
    ]],
    ['malformed quantities', (d) => (c0(d).resources = { requests: { cpu: '100mm' }, limits: { memory: '-1Gi' } }), [
      'spec.template.spec.containers[0].resources.limits[memory]: "-1Gi" must be greater than or equal to 0',
      'spec.template.spec.containers[0].resources.requests[cpu]: "100mm" is not a quantity',
      // The limit was defaulted into the request (as Kubernetes does), so both report it.
      'spec.template.spec.containers[0].resources.requests[memory]: "-1Gi" must be greater than or equal to 0',
    ]],
    ['requests above limits', (d) => (c0(d).resources = { requests: { cpu: '2' }, limits: { cpu: '500m' } }), ['spec.template.spec.containers[0].resources.requests[cpu]: "2" must be less than or equal to the cpu limit "500m"']],
    ['replicas >= 0', (d) => (d.spec.replicas = -1), ['spec.replicas: must be greater than or equal to 0']],
    ['maxSurge and maxUnavailable not both 0', (d) => (d.spec.strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } }), ['spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when `maxSurge` is 0']],
    ['bad percentage', (d) => (d.spec.strategy = { rollingUpdate: { maxSurge: 'lots', maxUnavailable: '150%' } }), [
      'spec.strategy.rollingUpdate.maxSurge: "lots" must be an integer or percentage',
      'spec.strategy.rollingUpdate.maxUnavailable: must not be greater than 100%',
    ]],
    ['Recreate takes no rollingUpdate', (d) => (d.spec.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } }), ['spec.strategy.rollingUpdate: may not be specified when strategy `type` is \'Recreate\'']],
    ['unknown strategy', (d) => (d.spec.strategy = { type: 'BlueGreen' }), ['spec.strategy.type: unsupported value "BlueGreen"']],
    ['restartPolicy enum', (d) => (d.spec.template.spec.restartPolicy = 'Sometimes'), ['spec.template.spec.restartPolicy: unsupported value "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    ['template restartPolicy must be Always', (d) => (d.spec.template.spec.restartPolicy = 'Never'), ['spec.template.spec.restartPolicy: unsupported value "Never": supported values: "Always"']],
    ['volume mounts need a volume', (d) => (c0(d).volumeMounts = [{ name: 'data', mountPath: '/d' }]), ['spec.template.spec.containers[0].volumeMounts[0].name: no volume named "data"']],
    ['progress deadline above minReadySeconds', (d) => { d.spec.minReadySeconds = 700; }, ['spec.progressDeadlineSeconds: must be greater than minReadySeconds']],
  ])('%s', (_name, edit, want) => {
    const got = problems(deployment(edit));
    expect(got).toHaveLength(want.length);
    want.forEach((w, i) => expect(got[i]).toContain(w));
  });

  it('refuses lifecycle.postStart, which Skiff does not run, naming the field', () => {
    const doc = deployment((d) => (c0(d).lifecycle = { postStart: { sleep: { seconds: 1 } } }));
    let err: unknown;
    try {
      fromManifest(doc);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).causes.map((c) => c.field)).toEqual(['spec.template.spec.containers[0].lifecycle.postStart']);
  });

  it('collects every problem, not just the first', () => {
    const got = problems(deployment((d) => {
      d.metadata.name = 'BAD';
      delete c0(d).image;
      d.spec.replicas = -2;
    }));
    expect(got.map((g) => g.split(':')[0])).toEqual(['metadata.name', 'spec.replicas', 'spec.template.spec.containers[0].image']);
  });

  it('namespaces are DNS labels; pods need containers', () => {
    expect(problems({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } })[0]).toContain('metadata.name: "a.b" must be a lowercase RFC 1123 label');
    expect(problems({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} })).toEqual(['spec.containers: required: a pod needs at least one container']);
  });
});

describe('validateUpdate', () => {
  it('forbids changing a Deployment selector and rebinding a pod', () => {
    const a = fromManifest(deployment());
    const b = fromManifest(deployment((d) => {
      d.spec.selector.matchLabels = { app: 'web', v: '2' };
      d.spec.template.metadata.labels = { app: 'web', v: '2' };
    }));
    expect(validateUpdate(a.info, b.object, a.object).map((c) => `${c.field}: ${c.message}`)).toEqual(['spec.selector: field is immutable']);
    const p1 = fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n1', containers: [{ name: 'a', image: 'x:1' }] } });
    const p2 = fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n2', containers: [{ name: 'a', image: 'x:1' }] } });
    expect(validateUpdate(p1.info, p2.object, p1.object).map((c) => c.field)).toEqual(['spec.nodeName']);
  });

  it('lets a node get a pod CIDR once, never change it, and only a valid IPv4 one', () => {
    const node = (spec: JsonObject) => fromManifest({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec });
    const bare = node({});
    const given = node({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] });
    const say = (o: ReturnType<typeof node>, old: ReturnType<typeof node>) =>
      validateUpdate(o.info, o.object, old.object).map((c) => `${c.field}: ${c.message}`);
    expect(say(given, bare)).toEqual([]);
    expect(say(node({ podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24'] }), given)).toEqual([
      'spec.podCIDR: node updates may not change podCIDR except from "" to valid (it is "10.244.1.0/24")',
    ]);
    expect(say(node({ podCIDR: '10.244.1.7/24' }), bare)).toEqual(['spec.podCIDR: "10.244.1.7/24" has host bits set (did you mean 10.244.1.0/24?)']);
    expect(say(node({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.3.0/24'] }), bare)).toEqual(['spec.podCIDRs[0]: must equal spec.podCIDR "10.244.1.0/24"']);
  });
});

describe('names', () => {
  it.each([
    ['web', '', ''],
    ['web-1', '', ''],
    ['a.b', 'label', ''],
    ['-a', 'label', 'subdomain'],
    ['A', 'label', 'subdomain'],
    ['x'.repeat(64), 'label', ''],
  ])('%s', (v, badLabel, badSub) => {
    expect(dns1123Label(v) !== '').toBe(badLabel === 'label');
    expect(dns1123Subdomain(v) !== '').toBe(badSub === 'subdomain');
  });

  it.each([['http', true], ['h2c-x', true], ['123', false], ['a--b', false], ['sixteen-chars-xx', false]])('port name %s valid=%s', (v, ok) => {
    expect(portName(v) === '').toBe(ok);
  });
});

describe('pod updates (ValidatePodUpdate)', () => {
  const podDoc = (edit: (spec: JsonObject & { containers: JsonObject[] }) => void = () => undefined) => {
    const spec = {
      nodeName: 'n1',
      activeDeadlineSeconds: 60,
      tolerations: [{ key: 'a', operator: 'Exists' }],
      initContainers: [{ name: 'init', image: 'busybox:1' }],
      containers: [{ name: 'app', image: 'web:1', ports: [{ containerPort: 80 }] }],
    } as JsonObject & { containers: JsonObject[] };
    edit(spec);
    const { info, object } = fromManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
    applyDefaults(info, object);
    return { info, object };
  };
  const check = (edit: (spec: JsonObject & { containers: JsonObject[] }) => void): string[] => {
    const old = podDoc();
    const next = podDoc(edit);
    return validateUpdate(old.info, next.object, old.object).map((c) => `${c.field}: ${c.message}`);
  };

  it('allows images, a lower activeDeadlineSeconds, added tolerations and label-only changes', () => {
    expect(check((s) => {
      s.containers[0]!.image = 'web:2';
      (s.initContainers as JsonObject[])[0]!.image = 'busybox:2';
      s.activeDeadlineSeconds = 30;
      s.tolerations = [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'Exists' }];
    })).toEqual([]);
    expect(check(() => undefined)).toEqual([]);
  });

  it('lets the scheduler bind an unbound pod once', () => {
    const unbound = podDoc((s) => delete s.nodeName);
    const bound = podDoc();
    expect(validateUpdate(unbound.info, bound.object, unbound.object)).toEqual([]);
    expect(validateUpdate(bound.info, podDoc((s) => (s.nodeName = 'n2')).object, bound.object).map((c) => c.field)).toEqual(['spec.nodeName']);
  });

  it('sets activeDeadlineSeconds when unset, never raises or removes it', () => {
    const none = podDoc((s) => delete s.activeDeadlineSeconds);
    expect(validateUpdate(none.info, podDoc().object, none.object)).toEqual([]);
    expect(check((s) => (s.activeDeadlineSeconds = 120))).toEqual(['spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to previous value']);
    expect(check((s) => delete s.activeDeadlineSeconds)).toEqual(['spec.activeDeadlineSeconds: Invalid value: "null": must not update from a positive integer to nil value']);
  });

  it('refuses removing a toleration', () => {
    expect(check((s) => (s.tolerations = []))).toEqual(['spec.tolerations: Forbidden: existing toleration can not be modified or removed (only additions are allowed)']);
  });

  it('refuses any other change, naming the paths that changed', () => {
    const msg = (paths: string) =>
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
      `\`spec.activeDeadlineSeconds\`,\`spec.tolerations\` (only additions to existing tolerations) (changed: ${paths})`;
    expect(check((s) => ((s.containers[0]!.ports as JsonObject[])[0]!.containerPort = 8080))).toEqual([msg('spec.containers[0].ports[0].containerPort')]);
    expect(check((s) => {
      s.containers[0]!.command = ['sh'];
      s.terminationGracePeriodSeconds = 5;
    })).toEqual([msg('spec.containers[0].command, spec.terminationGracePeriodSeconds')]);
    expect(check((s) => s.containers.push({ name: 'side', image: 'x:1' }))).toEqual([msg('spec.containers')]);
    expect(check((s) => (s.restartPolicy = 'Never'))).toEqual([msg('spec.restartPolicy')]);
  });
});

describe('emptyDir volumes', () => {
  it('accept medium "" and Memory only, naming the field', () => {
    const pod = (medium: string) => fromManifest({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: { volumes: [{ name: 'v', emptyDir: { medium } }], containers: [{ name: 'a', image: 'x:1' }] },
    });
    const say = (medium: string) => {
      const { info, object } = pod(medium);
      applyDefaults(info, object);
      return validateObject(info, object).map((c) => `${c.field}: ${c.message}`);
    };
    expect(say('Memory')).toEqual([]);
    expect(say('')).toEqual([]);
    expect(say('HugePages-2Mi')).toEqual(['spec.volumes[0].emptyDir.medium: unsupported value "HugePages-2Mi": supported values: "", "Memory"']);
  });
});
