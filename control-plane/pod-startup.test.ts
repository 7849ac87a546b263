import { describe, expect, it } from 'vitest';
import { podFixture } from '../test/helpers/objects.js';
import { podStartupHandlers } from './pod-startup.js';

describe('podStartupHandlers', () => {
  it('observes creation -> Running once per pod, and not for pods already running at start', () => {
    const seen: number[] = [];
    const h = podStartupHandlers((s) => seen.push(s), () => Date.parse('2026-01-01T00:00:03.500Z'));
    const mk = (uid: string, phase: string) => {
      const p = podFixture(uid, { phase });
      p.metadata!.uid = uid;
      p.metadata!.creationTimestamp = '2026-01-01T00:00:01Z';
      return p;
    };
    h.onAdd!(mk('old', 'Running'));
    h.onUpdate!(mk('old', 'Running'), mk('old', 'Running'));
    h.onAdd!(mk('a', 'Pending'));
    h.onUpdate!(mk('a', 'Pending'), mk('a', 'Pending'));
    h.onUpdate!(mk('a', 'Pending'), mk('a', 'Running'));
    h.onUpdate!(mk('a', 'Running'), mk('a', 'Running'));
    expect(seen).toEqual([2.5]);
  });
});
