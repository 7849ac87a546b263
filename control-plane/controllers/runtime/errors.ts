// Errors a reconcile function throws to steer its runner.

/** A failure that retrying cannot fix (bad spec, impossible request): not retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}
