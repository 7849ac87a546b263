// The live view of `skiff compose up` on a terminal: one line per service with its rollout
// (ready/desired, state), as `docker compose up` shows its containers; plain lines (one per
// change) when stdout is not a terminal.
import { Box, render, Text, type Instance } from 'ink';
import Spinner from 'ink-spinner';
import type { JSX } from 'react';
import { line, type Output } from '../context.js';

export interface Row {
  service: string;
  /** "2/3" ready of desired. */
  replicas: string;
  text: string;
  done: boolean;
  bad: boolean;
  note?: string;
}

export function ServicesView({ project, rows }: { project: string; rows: Row[] }): JSX.Element {
  return (
    <Box flexDirection="column">
      <Text bold>{`Project ${project}`}</Text>
      {rows.map((r) => (
        <Box key={r.service}>
          <Box width={2}>
            {r.bad ? <Text color="red">✗</Text> : r.done ? <Text color="green">✔</Text> : <Text color="cyan"><Spinner type="dots" /></Text>}
          </Box>
          <Box width={24}><Text>{r.service}</Text></Box>
          <Box width={8}><Text>{r.replicas}</Text></Box>
          <Text color={r.bad ? 'red' : r.done ? 'green' : 'gray'}>{r.text}</Text>
          {r.note ? <Text color="gray">{`  ${r.note}`}</Text> : null}
        </Box>
      ))}
    </Box>
  );
}

export interface ProgressSink {
  show(rows: Row[]): void;
  finish(): Promise<void>;
}

export class InkProgress implements ProgressSink {
  private app: Instance | undefined;
  constructor(private readonly project: string) {}

  show(rows: Row[]): void {
    const view = <ServicesView project={this.project} rows={rows} />;
    if (this.app) this.app.rerender(view);
    else this.app = render(view);
  }

  async finish(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    if (!app) return;
    app.unmount();
    await app.waitUntilExit();
  }
}

export class PlainProgress implements ProgressSink {
  private readonly last = new Map<string, string>();
  constructor(private readonly out: Output) {}

  show(rows: Row[]): void {
    for (const r of rows) {
      const text = `${r.service} ${r.replicas} ${r.text}${r.note ? ` (${r.note})` : ''}`;
      if (this.last.get(r.service) === text) continue;
      this.last.set(r.service, text);
      line(this.out, text);
    }
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }
}
