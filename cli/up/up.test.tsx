import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { registerUp } from '../commands/up.js';
import { mustParseCidr } from '../../proto/api/cidr.js';
import { mirrorsToml, renderTemplate, writeContainerdConfig, writeNodeContainerdConfig } from './containerd.js';
import { down } from './down.js';
import { checkPrefix, freeRange, lanNodes, MAX_NODES, type Lan } from './lan.js';
import { layout, nodeLayout } from './layout.js';
import { runningPid, startDetached, stopOrder, stopPid } from './processes.js';
import { choosePorts, PREFERRED_PORTS } from './ports.js';
import { PlainReporter } from './report.js';
import { StepsView } from './StepsView.js';

const dirs: string[] = [];
const tmp = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'skiff-up-test-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('templates', () => {
  it('fills every placeholder and refuses one without a value', () => {
    expect(renderTemplate('a={{A}} b={{B_C}}', { A: '1', B_C: '2' })).toBe('a=1 b=2');
    expect(() => renderTemplate('{{MISSING}}', {})).toThrow('{{MISSING}} has no value');
  });

  it('renders containerd and CNI config into the state dir with the registry as a plain-HTTP mirror', async () => {
    const l = layout(await tmp());
    const cfg = await writeContainerdConfig(l, '127.0.0.1:5001');
    const toml = await readFile(cfg, 'utf8');
    expect(toml).toContain(`address = "${l.containerdSocket}"`);
    expect(toml).toContain('sandbox_image = "127.0.0.1:5001/skiff/pause:1"');
    expect(toml).toContain(mirrorsToml(['127.0.0.1:5001']));
    expect(toml).not.toMatch(/\{\{/);
    expect(toml).toContain('conf_template = ""');
    const cni = JSON.parse(await readFile(join(l.containerdDir, 'cni', '10-skiff.conflist'), 'utf8')) as {
      plugins: { bridge?: string; ipam?: { ranges: { subnet: string }[][]; dataDir: string } }[];
    };
    expect(cni.plugins[0]?.bridge).toBe('skiff0');
    expect(cni.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet).toBe('10.88.0.0/24');
    expect(cni.plugins[0]?.ipam?.dataDir).toBe(join(l.containerdDir, 'ipam'));
  });
});

describe('ports', () => {
  let blocker: Server | undefined;
  afterEach(() => blocker?.close());

  it('takes the next free port when the preferred one is busy, and keeps what it saved', async () => {
    blocker = createServer();
    const busy = PREFERRED_PORTS.etcdClient;
    const listening = await new Promise<boolean>((r) => {
      blocker?.once('error', () => r(false));
      blocker?.listen(busy, '127.0.0.1', () => r(true));
    });
    const file = join(await tmp(), 'ports.json');
    const first = await choosePorts(file);
    if (listening) expect(first.etcdClient).not.toBe(busy);
    expect(first.etcdClient).toBeGreaterThanOrEqual(busy);
    expect(new Set(Object.values(first)).size).toBe(Object.keys(first).length);
    blocker.close();
    expect(await choosePorts(file)).toEqual(first);
  });
});

describe('reporting', () => {
  it('prints one line per finished step and the error of a failed one', async () => {
    let out = '';
    const rep = new PlainReporter({ write: (s: string) => (out += s) });
    await rep.step('etcd', () => Promise.resolve('started'));
    await expect(rep.step('registry', () => Promise.reject(new Error('port taken')))).rejects.toThrow('port taken');
    expect(out).toBe('ok    etcd: started\nFAIL  registry: port taken\n');
  });

  it('shows a spinner on the running step and marks finished ones', () => {
    const { lastFrame } = render(<StepsView steps={[
      { title: 'etcd', status: 'done', detail: 'started' },
      { title: 'registry', status: 'failed', detail: 'port taken' },
      { title: 'containerd', status: 'running', detail: '' },
    ]} />);
    const frame = lastFrame() ?? '';
    expect(frame).toContain('✓ etcd: started');
    expect(frame).toContain('✗ registry: port taken');
    expect(frame).toMatch(/containerd/);
  });
});

describe('skiff up flags', () => {
  it('refuses more nodes than the LAN plan holds', async () => {
    let err = '';
    let code = -1;
    const p = new Command('skiff').exitOverride();
    registerUp(p, {
      stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: { HOME: await tmp() }, interactive: false,
      setExitCode: (c) => (code = c),
    });
    await p.parseAsync(['up', '--nodes', String(MAX_NODES + 1)], { from: 'user' });
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`--nodes ${MAX_NODES + 1} is more than`));
  });
});

describe('multi-node plan', () => {
  const lan: Lan = {
    prefix: 'skiff', nodes: 3, bridge: 'skiff-lan', subnet: '172.20.5.0/24', hostAddress: '172.20.5.1', clusterCidr: '10.244.0.0/16',
  };

  it('names each node, its namespace, veth and LAN address', () => {
    expect(lanNodes(lan)).toEqual([
      { name: 'n1', netns: 'skiff-n1', veth: 'skiff-v1', address: '172.20.5.11' },
      { name: 'n2', netns: 'skiff-n2', veth: 'skiff-v2', address: '172.20.5.12' },
      { name: 'n3', netns: 'skiff-n3', veth: 'skiff-v3', address: '172.20.5.13' },
    ]);
    // Interface names stay within the kernel's 15 bytes at the longest prefix and node number.
    expect(`${'a'.repeat(10)}-v${MAX_NODES}`.length).toBeLessThanOrEqual(15);
    expect(checkPrefix('sk1a2b3c')).toBe('sk1a2b3c');
    expect(() => checkPrefix('Skiff-lan')).toThrow(/lowercase/);
    expect(() => checkPrefix('a'.repeat(11))).toThrow(/up to 9/);
  });

  it('takes the preferred range unless a host route overlaps it, else a free candidate', () => {
    const taken = [mustParseCidr('10.0.0.0/8')];
    expect(freeRange([mustParseCidr('192.168.1.0/24')], '10.244.0.0/16', () => '10.1.0.0/16')).toBe('10.244.0.0/16');
    const picks = ['10.7.0.0/16', '172.16.0.0/16'];
    expect(freeRange(taken, '10.244.0.0/16', () => picks.shift() ?? '')).toBe('172.16.0.0/16');
    expect(() => freeRange(taken, undefined, () => '10.1.2.0/24', 5)).toThrow(/no free private range/);
  });

  it('stops the host LoadBalancer forwarding, every agent, then the control plane, then every containerd, registry and etcd', () => {
    expect(stopOrder(['n1', 'n2'])).toEqual([
      'host-lb', 'node-agent-n1', 'node-agent-n2', 'control-plane', 'containerd-n1', 'containerd-n2', 'registry', 'etcd',
    ]);
    expect(stopOrder([])).toEqual(['node-agent', 'control-plane', 'containerd', 'registry', 'etcd']);
  });

  it('renders a node containerd whose CNI config comes from the pod CIDR template', async () => {
    const l = layout(await tmp());
    const nl = nodeLayout(l, 'n2');
    const cfg = await writeNodeContainerdConfig(nl.containerdDir, nl.containerdSocket, '172.20.5.1:5000');
    const toml = await readFile(cfg, 'utf8');
    expect(toml).toContain(`address = "${nl.containerdSocket}"`);
    expect(toml).toContain(`Root = "${join(nl.containerdDir, 'state')}/runc"`);
    expect(toml).toContain(`conf_template = "${join(nl.containerdDir, 'cni.conflist.gotmpl')}"`);
    expect(toml).toContain(mirrorsToml(['172.20.5.1:5000']));
    const tmpl = await readFile(join(nl.containerdDir, 'cni.conflist.gotmpl'), 'utf8');
    expect(tmpl).toContain('"subnet": "{{.PodCIDR}}"');
  });
});

describe('background processes', () => {
  it('owns a pid only while its command line names the state dir, and stops it', async () => {
    const l = layout(await tmp());
    const pid = await startDetached(l, 'registry', 'sleep', ['300']);
    // `sleep 300` does not mention the state dir: a recycled pid must never count as ours.
    expect(await runningPid(l, 'registry')).toBeUndefined();
    await stopPid(pid);
    const own = await startDetached(l, 'etcd', process.execPath, ['-e', 'setInterval(() => undefined, 1000)', l.stateDir]);
    expect(await runningPid(l, 'etcd')).toBe(own);
    expect(await stopPid(own, 5000)).toBe('stopped');
    expect(await runningPid(l, 'etcd')).toBeUndefined();
  });

  it('down with no state dir has nothing to stop', async () => {
    let out = '';
    const code = await down(
      { stateDir: join(await tmp(), 'absent'), purge: true, stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true } },
      new PlainReporter({ write: () => true }),
    );
    expect(code).toBe(0);
    expect(out).toMatch(/nothing to stop/);
  });
});
