// How `skiff up`/`skiff down` show their steps: one line per finished step when stdout is not a
// terminal; a live Ink list with a spinner on the running step when it is.
import type { Output } from '../context.js';

export interface StepState {
  title: string;
  status: 'running' | 'done' | 'failed';
  detail: string;
}

export interface Reporter {
  /** Runs one step; its result is the detail shown next to the title. A throw fails the step. */
  step(title: string, fn: () => Promise<string>): Promise<void>;
  /** Releases the terminal (the Ink view) so another view or plain output can follow. */
  finish(): Promise<void>;
}

export class PlainReporter implements Reporter {
  constructor(private readonly out: Output) {}
  async step(title: string, fn: () => Promise<string>): Promise<void> {
    try {
      const detail = await fn();
      this.out.write(`ok    ${title}${detail ? `: ${detail}` : ''}\n`);
    } catch (e) {
      this.out.write(`FAIL  ${title}: ${e instanceof Error ? e.message : String(e)}\n`);
      throw e;
    }
  }
  finish(): Promise<void> {
    return Promise.resolve();
  }
}

/** Thrown by a step that already reported its failure: callers print nothing more. */
export class StepFailed extends Error {}
