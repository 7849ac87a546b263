import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KINDS } from '../../proto/api/kinds.js';
import { toManifest } from '../../proto/api/manifest.js';
import { formatObjects } from './output.js';
import { deployment, runningReady } from '../testing/objects.js';

describe('-o json|yaml|name', () => {
  const d = { info: KINDS.Deployment, object: deployment('web') };
  const p = { info: KINDS.Pod, object: runningReady('web-1') };

  it('prints one object bare and exactly as toManifest writes it', () => {
    expect(JSON.parse(formatObjects('json', [d], false))).toEqual(toManifest(d.info, d.object));
    expect(parse(formatObjects('yaml', [d], false))).toEqual(toManifest(d.info, d.object));
  });

  it('wraps listings in a List, like kubectl', () => {
    const doc = JSON.parse(formatObjects('json', [d, p], true)) as { kind: string; items: unknown[] };
    expect(doc.kind).toBe('List');
    expect(doc.items).toEqual([toManifest(d.info, d.object), toManifest(p.info, p.object)]);
  });

  it('writes YAML in kubectl layout (lists not indented under their key) and stably', () => {
    const y = formatObjects('yaml', [d], false);
    expect(y).toContain('  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: app\n        image: hello:1\n');
    expect(y.startsWith('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n')).toBe(true);
    expect(formatObjects('yaml', [d], false)).toBe(y);
  });

  it('names as kind.group/name', () => {
    expect(formatObjects('name', [d, p], true)).toBe('deployment.apps/web\npod/web-1\n');
  });
});
