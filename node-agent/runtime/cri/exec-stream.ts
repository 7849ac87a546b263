// Interactive exec over CRI: Exec returns the URL of the runtime's streaming server (containerd
// serves the kubelet's streaming protocol); the agent connects to it with a WebSocket speaking
// Kubernetes' channel protocol: each message starts with its channel byte (0 stdin, 1 stdout,
// 2 stderr, 3 the final Status as JSON, 4 terminal size as JSON; v5 adds 255 "close a channel",
// which is how stdin's end reaches the command).
import WebSocket from 'ws';
import type { ExecSession } from '../runtime.js';
import { RuntimeError } from '../runtime.js';
import { criError, type CriClient } from './client.js';

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

interface StatusJson {
  status?: string;
  reason?: string;
  message?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The exit code a final Status carries (v4+: Success, or NonZeroExitCode with an ExitCode cause). */
export function exitCodeOf(text: string): number {
  const s = JSON.parse(text) as StatusJson;
  if (s.status === 'Success') return 0;
  const code = s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  if (s.reason === 'NonZeroExitCode' && code !== undefined && /^\d+$/.test(code)) return Number(code);
  throw new RuntimeError('ExecError', s.message || 'exec failed');
}

export async function execStream(c: CriClient, containerId: string, cmd: string[], opts: { tty: boolean; stdin: boolean }): Promise<ExecSession> {
  let url: string;
  try {
    // With a terminal, stderr is the terminal too (CRI: stderr must be false when tty is set).
    ({ url } = await c.rt('exec', { containerId, cmd, tty: opts.tty, stdin: opts.stdin, stdout: true, stderr: !opts.tty }));
  } catch (e) {
    throw criError(e, 'ExecError', `container ${containerId}: exec ${JSON.stringify(cmd)}`);
  }
  const ws = new WebSocket(url, PROTOCOLS);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', (e) => reject(new RuntimeError('ExecError', `container ${containerId}: exec stream ${url}: ${e.message}`)));
  });
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  const listeners: ((channel: 1 | 2, data: Buffer) => void)[] = [];
  // Output that arrives before anyone listens waits here.
  const early: [1 | 2, Buffer][] = [];
  let status: number | Error | undefined;
  const exited = new Promise<number>((resolve, reject) => {
    ws.on('message', (raw: Buffer) => {
      const channel = raw[0];
      const data = raw.subarray(1);
      if ((channel === 1 || channel === 2) && data.length) {
        if (listeners.length) for (const l of listeners) l(channel, data);
        else early.push([channel, Buffer.from(data)]);
      }
      else if (channel === 3) {
        try {
          status = exitCodeOf(data.toString('utf8'));
        } catch (e) {
          status = e instanceof Error ? e : new Error(String(e));
        }
      }
    });
    ws.on('close', () => {
      if (typeof status === 'number') resolve(status);
      else reject(status ?? new RuntimeError('ExecError', `container ${containerId}: the exec stream closed without an exit status`));
    });
    ws.on('error', (e) => reject(new RuntimeError('ExecError', `container ${containerId}: exec stream: ${e.message}`)));
  });
  // A caller that never waits must not crash the process with an unhandled rejection.
  exited.catch(() => undefined);
  const send = (channel: number, data: Buffer): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };
  return {
    write: (data) => send(0, data),
    closeStdin: () => {
      // v4 has no way to say "end of input" (closing the socket would lose the exit status):
      // there the command keeps its stdin open until it exits or the session is closed.
      if (v5) send(255, Buffer.from([0]));
    },
    resize: (width, height) => send(4, Buffer.from(JSON.stringify({ Width: width, Height: height }))),
    onOutput: (fn) => {
      listeners.push(fn);
      for (const [ch, d] of early.splice(0)) fn(ch, d);
    },
    exited,
    close: () => ws.close(),
  };
}
