import { describe, expect, it } from 'vitest';
import { exitCodeOf } from './exec-stream.js';

describe('exitCodeOf (the final Status of a channel.k8s.io exec stream)', () => {
  it('reads Success as 0 and NonZeroExitCode from its ExitCode cause', () => {
    expect(exitCodeOf('{"metadata":{},"status":"Success"}')).toBe(0);
    // As containerd 1.6 sends it.
    expect(exitCodeOf(JSON.stringify({
      metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: error executing command [sh], exit code 3',
      reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    }))).toBe(3);
  });

  it('turns any other failure into an error with its message', () => {
    expect(() => exitCodeOf('{"status":"Failure","message":"container not running"}')).toThrow('container not running');
    expect(() => exitCodeOf('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[]}}')).toThrow('exec failed');
  });
});
