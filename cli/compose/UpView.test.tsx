import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { PlainProgress, ServicesView } from './UpView.js';

describe('compose up views', () => {
  it('the live view shows each service with its replicas, state and what it waits for', () => {
    const ui = render(<ServicesView project="shop" rows={[
      { service: 'redis', replicas: '1/1', text: 'running', done: true, bad: false },
      { service: 'web', replicas: '0/3', text: 'waiting', done: false, bad: false, note: 'waiting for redis to be healthy' },
      { service: 'worker', replicas: '0/1', text: 'CrashLoopBackOff', done: false, bad: true },
    ]} />);
    const frame = ui.lastFrame() ?? '';
    expect(frame).toContain('Project shop');
    expect(frame).toMatch(/✔ redis\s+1\/1\s+running/);
    expect(frame).toMatch(/web\s+0\/3\s+waiting\s+waiting for redis to be healthy/);
    expect(frame).toMatch(/✗ worker\s+0\/1\s+CrashLoopBackOff/);
    ui.unmount();
  });

  it('plain output prints a line per change only', () => {
    const out: string[] = [];
    const p = new PlainProgress({ write: (s: string) => out.push(s) });
    const row = { service: 'web', replicas: '0/3', text: 'starting', done: false, bad: false };
    p.show([row]);
    p.show([row]);
    p.show([{ ...row, replicas: '3/3', text: 'running', done: true }]);
    expect(out).toEqual(['web 0/3 starting\n', 'web 3/3 running\n']);
  });
});
