import { describe, expect, it } from 'vitest';
import { WatcherIndex } from './watcher-index.js';

function filled(nodes: number): WatcherIndex<string> {
  const idx = new WatcherIndex<string>();
  idx.add('all', undefined);
  idx.add('labelled', undefined);
  for (let i = 0; i < nodes; i++) idx.add(`agent-${i}`, `node-${i}`);
  idx.add('second-on-node-7', 'node-7');
  return idx;
}

describe('WatcherIndex', () => {
  it('offers an event only to unindexed watchers and those pinned to its value now or before', () => {
    const idx = filled(1000);
    expect(idx.size).toBe(1003);
    expect([...idx.candidates('node-7', undefined)]).toEqual(['all', 'labelled', 'agent-7', 'second-on-node-7']);
    expect([...idx.candidates('node-8', 'node-3')]).toEqual(['all', 'labelled', 'agent-8', 'agent-3']);
    expect([...idx.candidates('node-5', 'node-5')]).toEqual(['all', 'labelled', 'agent-5']);
    expect([...idx.candidates('', undefined)]).toEqual(['all', 'labelled']);
    expect([...idx.candidates(undefined, undefined)]).toEqual(['all', 'labelled']);
  });

  it('lists every watcher once, and forgets removed ones', () => {
    const idx = filled(3);
    expect([...idx.all()].sort()).toEqual(['agent-0', 'agent-1', 'agent-2', 'all', 'labelled', 'second-on-node-7']);
    idx.add('agent-1', 'node-1');
    expect(idx.size).toBe(6);
    idx.delete('agent-1', 'node-1');
    idx.delete('agent-1', 'node-1');
    idx.delete('all', undefined);
    idx.delete('missing', 'node-9');
    expect(idx.size).toBe(4);
    expect([...idx.candidates('node-1', 'node-2')]).toEqual(['labelled', 'agent-2']);
    expect([...idx.all()].sort()).toEqual(['agent-0', 'agent-2', 'labelled', 'second-on-node-7']);
    idx.clear();
    expect(idx.size).toBe(0);
    expect([...idx.all()]).toEqual([]);
  });
});
