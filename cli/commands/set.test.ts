import { describe, expect, it } from 'vitest';
import { imagePatch } from './set.js';
import { Container } from '../../proto/gen/skiff/v1/core.js';

const containers = [Container.fromPartial({ name: 'web', image: 'a:1' }), Container.fromPartial({ name: 'sidecar', image: 'b:1' })];
const base = '/spec/template/spec/containers';

describe('set image patch', () => {
  it('tests the container name before replacing its image', () => {
    expect(imagePatch(containers, ['sidecar=127.0.0.1:5000/b:2'], base)).toEqual([
      { op: 'test', path: `${base}/1/name`, value: 'sidecar' },
      { op: 'replace', path: `${base}/1/image`, value: '127.0.0.1:5000/b:2' },
    ]);
  });
  it('sets every container with *', () => {
    expect(imagePatch(containers, ['*=c:3'], base).filter((o) => o.op === 'replace').map((o) => o.path)).toEqual([`${base}/0/image`, `${base}/1/image`]);
  });
  it('names the containers when one is not found', () => {
    expect(() => imagePatch(containers, ['db=x:1'], base)).toThrow('unable to find container named "db"; containers: web, sidecar');
    expect(() => imagePatch(containers, ['web='], base)).toThrow('not CONTAINER=IMAGE');
  });
});
