// Relaying one bidirectional stream between a client and a node agent (port-forward,
// interactive exec): the client's first frame is read here, then every frame is passed on both
// ways with backpressure, the client's end is passed up, and the call finishes when the agent's
// stream does. Agent errors that never reached the agent say which node could not be reached.
import type { ClientDuplexStream, ServerDuplexStream, ServiceError } from '@grpc/grpc-js';
import { ERROR_TRAILER, errors, fromGrpcError } from '../../proto/api/errors.js';

/** The client's first frame (the stream paused after it); undefined when it ends at once. */
export function firstFrame<T>(call: ServerDuplexStream<T, T>): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      call.off('data', onData);
      call.off('end', onEnd);
      call.off('error', onError);
    };
    const onData = (f: T): void => {
      cleanup();
      call.pause();
      resolve(f);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    call.on('data', onData);
    call.on('end', onEnd);
    call.on('error', onError);
  });
}

export function relay<T>(call: ServerDuplexStream<T, T>, upstream: ClientDuplexStream<T, T>, first: T, where: { nodeName: string; target: string }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    call.on('cancelled', () => upstream.cancel());
    upstream.write(first);
    call.on('data', (f: T) => {
      if (!upstream.write(f)) {
        call.pause();
        upstream.once('drain', () => call.resume());
      }
    });
    call.on('end', () => upstream.end());
    upstream.on('data', (f: T) => {
      if (!call.write(f)) {
        upstream.pause();
        call.once('drain', () => upstream.resume());
      }
    });
    // The agent's side is done: so is the call (the agent ends only when its end is done).
    upstream.on('end', () => resolve());
    upstream.on('error', (e) => {
      const err = fromGrpcError(e);
      // Without the trailer the agent did not answer at all (an answer explains itself).
      const fromAgent = (e as Partial<ServiceError>).metadata?.get(ERROR_TRAILER).length;
      if (err.code === 'Unavailable' && !fromAgent) {
        reject(errors.unavailable(`cannot reach the node agent of node "${where.nodeName}" at ${where.target}: ${err.message}`));
      } else reject(err);
    });
    call.resume();
  });
}
