import { describe, expect, it } from 'vitest';
import { ApiError } from '../../proto/api/errors.js';
import { compose } from './testing.js';
import { keyPath, validateSchema } from './schema.js';

function invalid(text: string): { field: string; message: string }[] {
  try {
    compose(text);
  } catch (e) {
    if (e instanceof ApiError) return e.causes.map((c) => ({ field: c.field, message: c.message }));
    throw e;
  }
  throw new Error('expected the file to be refused');
}

describe('schema validation', () => {
  it('keyPath turns a JSON pointer into a compose key path', () => {
    expect(keyPath('/services/web/ports/0')).toBe('services.web.ports[0]');
    expect(keyPath('')).toBe('');
  });

  it('accepts Docker\'s getting-started example', () => {
    expect(validateSchema({ services: { web: { build: '.', ports: ['8000:5000'] }, redis: { image: 'redis:alpine' } } })).toEqual([]);
  });

  it.each([
    ['an unknown service key', 'services:\n  web:\n    image: x\n    imagee: y\n', 'services.web.imagee', 'additional property "imagee" is not allowed'],
    ['a wrong type', 'services:\n  web:\n    image: x\n    ports: 8080\n', 'services.web.ports', 'must be array'],
    ['a bad enum in depends_on', 'services:\n  db:\n    image: x\n  web:\n    image: x\n    depends_on:\n      db: {condition: healthy}\n', 'services.web.depends_on.db.condition', 'must be one of "service_started", "service_healthy", "service_completed_successfully"'],
    ['an unknown top-level key', 'services:\n  web: {image: x}\nservice: {}\n', 'service', 'additional property "service" is not allowed'],
    ['a deploy typo', 'services:\n  web:\n    image: x\n    deploy: {replica: 2}\n', 'services.web.deploy.replica', 'additional property "replica" is not allowed'],
  ])('%s is refused with its key path', (_n, text, field, msg) => {
    const causes = invalid(text);
    expect(causes.map((c) => c.field)).toContain(field);
    expect(causes.find((c) => c.field === field)!.message).toContain(msg);
  });

  it('a valid key Skiff does not support names the service, the key and what to use instead', () => {
    const causes = invalid('services:\n  web:\n    image: x\n    cap_add: [NET_ADMIN]\n    extra_hosts: ["a:1.2.3.4"]\n');
    expect(causes).toEqual([
      { field: 'services.web.cap_add', message: expect.stringContaining('is not supported by Skiff: Skiff runs containers with the runtime default capabilities') as string },
      { field: 'services.web.extra_hosts', message: expect.stringContaining('make them services of the project') as string },
    ]);
  });

  it('harmless keys are warnings', () => {
    const t = compose('version: "3.8"\nservices:\n  web:\n    image: x\n    container_name: web1\n    networks: [front]\nnetworks:\n  front: {}\n');
    expect(t.warnings.map((w) => w.path)).toEqual(['version', 'networks.front', 'services.web.container_name', 'services.web.networks']);
    expect(t.warnings.every((w) => w.level === 'warning')).toBe(true);
  });

  it('interpolation happens before validation, with .env-style defaults', () => {
    const t = compose('services:\n  web:\n    image: ${IMG:-r/web:1}\n    ports: ["${PORT}:5000"]\n', { env: { PORT: '18080' } });
    expect(t.services[0]!.image).toBe('r/web:1');
    expect(t.services[0]!.published).toEqual([{ target: 5000, published: 18080, protocol: 'TCP' }]);
  });
});
