// The live view of `skiff up`/`skiff down` on a terminal: each step with a spinner while it runs,
// then a check mark (or a cross and the error).
import { render, Box, Text, type Instance } from 'ink';
import Spinner from 'ink-spinner';
import type { JSX } from 'react';
import type { Reporter, StepState } from './report.js';

export function StepsView({ steps }: { steps: StepState[] }): JSX.Element {
  return (
    <Box flexDirection="column">
      {steps.map((s, i) => (
        <Box key={i}>
          <Box width={2}>
            {s.status === 'running' ? <Text color="cyan"><Spinner type="dots" /></Text>
              : s.status === 'done' ? <Text color="green">✓</Text> : <Text color="red">✗</Text>}
          </Box>
          <Text>{s.title}</Text>
          {s.detail ? <Text color={s.status === 'failed' ? 'red' : 'gray'}>{`: ${s.detail}`}</Text> : null}
        </Box>
      ))}
    </Box>
  );
}

export class InkReporter implements Reporter {
  private readonly steps: StepState[] = [];
  private app: Instance | undefined;

  private draw(): void {
    const view = <StepsView steps={this.steps.map((s) => ({ ...s }))} />;
    if (this.app) this.app.rerender(view);
    else this.app = render(view);
  }

  async step(title: string, fn: () => Promise<string>): Promise<void> {
    const s: StepState = { title, status: 'running', detail: '' };
    this.steps.push(s);
    this.draw();
    try {
      s.detail = await fn();
      s.status = 'done';
    } catch (e) {
      s.status = 'failed';
      s.detail = e instanceof Error ? e.message : String(e);
      throw e;
    } finally {
      this.draw();
    }
  }

  async finish(): Promise<void> {
    if (!this.app) return;
    const app = this.app;
    this.app = undefined;
    app.unmount();
    await app.waitUntilExit();
  }
}
