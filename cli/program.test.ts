import { describe, expect, it } from 'vitest';
import { freePort } from '../test/helpers/ports.js';
import { runCli } from './program.js';

async function skiff(args: string[], env: NodeJS.ProcessEnv = { HOME: '/nonexistent' }): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env, interactive: false,
  });
  return { code, out, err };
}

describe('skiff without a server', () => {
  it('reports manifest errors before trying to connect', async () => {
    const port = await freePort();
    const r = await skiff(['apply', '-f', 'test/fixtures/bad-manifests-cli/unknown-kind.yaml', '--server', `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error (Invalid): Ingress "web" is invalid: 1 problem\n  test/fixtures/bad-manifests-cli/unknown-kind.yaml#1: kind: unknown kind "Ingress"');
  });

  it('prints usage for --help and fails on an unknown command or option', async () => {
    const help = await skiff(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/apply.*\n.*get/s);
    expect((await skiff(['frobnicate'])).code).toBe(1);
    const bad = await skiff(['get', 'pods', '--bogus']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("unknown option '--bogus'");
  });

  it('refuses bad flag values with a clear error', async () => {
    expect((await skiff(['get', 'pods', '-o', 'table'])).err).toContain('unknown output format "table"; use one of: wide, json, yaml, name');
    expect((await skiff(['get', 'ingresses'])).err).toContain('error (BadRequest): the server doesn\'t have a resource type "ingresses"');
    expect((await skiff(['scale', 'deploy/web', '--replicas', '-2'])).err).toContain('--replicas must be a whole number >= 0');
    expect((await skiff(['delete', 'deploy', 'web', '--cascade', 'sideways'])).err).toContain('--cascade must be background, foreground or orphan');
    expect((await skiff(['apply'])).err).toContain('give manifests with -f FILE');
  });
});
