// One forwarded TCP connection as a gRPC stream of PortForwardFrame: the CLI (local socket) and
// the node agent (socket to the pod) both bridge a socket to such a stream, with backpressure
// both ways and half-close carried over (a socket's end ends the stream's writing side and the
// stream's end ends the socket's), so request/response protocols that close one side work.
import type { Socket } from 'node:net';
import type { PortForwardFrame } from '../gen/skiff/v1/api.js';

/** The part of a grpc-js duplex call (client or server side) the bridge uses. */
export interface FrameStream {
  write(frame: PortForwardFrame): boolean;
  end(): void;
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', fn: (frame: PortForwardFrame) => void): unknown;
  on(event: 'end' | 'close' | 'drain', fn: () => void): unknown;
  on(event: 'error', fn: (e: Error) => void): unknown;
  once(event: 'drain', fn: () => void): unknown;
}

export const dataFrame = (data: Buffer): PortForwardFrame => ({ namespace: '', pod: '', port: 0, data });

/**
 * Pipes socket <-> frames until both directions are done or either side fails; resolves then
 * (with the error, if any: the caller reports it). The socket must allow half-open.
 */
export function bridge(socket: Socket, frames: FrameStream): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    let socketEnded = false;
    let framesEnded = false;
    const finish = (e?: Error): void => {
      if (settled) return;
      settled = true;
      if (e) socket.destroy();
      resolve(e);
    };
    socket.on('data', (chunk: Buffer) => {
      if (!frames.write(dataFrame(chunk))) {
        socket.pause();
        frames.once('drain', () => socket.resume());
      }
    });
    socket.on('end', () => {
      socketEnded = true;
      frames.end();
      if (framesEnded) finish();
    });
    socket.on('error', (e) => finish(e));
    socket.on('close', () => finish());
    frames.on('data', (f) => {
      if (f.data.length === 0) return;
      if (!socket.write(f.data)) {
        frames.pause();
        socket.once('drain', () => frames.resume());
      }
    });
    frames.on('end', () => {
      framesEnded = true;
      socket.end();
      if (socketEnded) finish();
    });
    frames.on('error', (e) => finish(e));
  });
}
