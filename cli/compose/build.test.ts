import { describe, expect, it } from 'vitest';
import { resolveFrom } from './build.js';

describe('resolveFrom', () => {
  it.each([
    ['FROM python:3.12-alpine', 'FROM 127.0.0.1:5000/python:3.12-alpine'],
    ['FROM skiff/busybox:1 AS base', 'FROM 127.0.0.1:5000/skiff/busybox:1 AS base'],
    ['from --platform=linux/amd64 alpine', 'from --platform=linux/amd64 127.0.0.1:5000/alpine'],
    ['FROM registry.example:5000/x/y:1', 'FROM registry.example:5000/x/y:1'],
    ['FROM localhost/x', 'FROM localhost/x'],
    ['FROM scratch', 'FROM scratch'],
    ['FROM ${BASE}', 'FROM ${BASE}'],
    ['RUN echo FROM x', 'RUN echo FROM x'],
  ])('%s', (input, want) => {
    expect(resolveFrom(input, '127.0.0.1:5000')).toBe(want);
  });

  it('a later FROM naming an earlier stage stays', () => {
    expect(resolveFrom('FROM alpine AS build\nRUN make\nFROM build\n', 'r:5000')).toBe('FROM r:5000/alpine AS build\nRUN make\nFROM build\n');
  });
});
