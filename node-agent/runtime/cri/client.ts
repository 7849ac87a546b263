// The gRPC connection to a CRI runtime (containerd's socket): both services on one channel,
// each call promisified with a deadline, and gRPC failures turned into RuntimeError with the
// reason Kubernetes would show for the step that failed.
import { credentials, Metadata, status, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { ImageServiceClient, RuntimeServiceClient } from '../../../proto/gen/runtime/v1/api.js';
import { RuntimeError } from '../runtime.js';

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type UnaryMethod<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: Callback<Res>) => ClientUnaryCall;
// The generated clients overload each method; inference picks the last (full) signature.
type ReqOf<F> = F extends (req: infer R, md: Metadata, opts: Partial<CallOptions>, cb: never) => ClientUnaryCall ? R : never;
type ResOf<F> = F extends (req: never, md: Metadata, opts: Partial<CallOptions>, cb: Callback<infer S>) => ClientUnaryCall ? S : never;
type UnaryNames<C> = { [K in keyof C]: ReqOf<C[K]> extends never ? never : K }[keyof C] & string;
type RuntimeMethod = UnaryNames<RuntimeServiceClient>;
type ImageMethod = UnaryNames<ImageServiceClient>;

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export class CriClient {
  readonly runtime: RuntimeServiceClient;
  readonly images: ImageServiceClient;

  /** address: `unix:///run/containerd/containerd.sock` (or a bare absolute path). */
  constructor(readonly address: string) {
    const target = address.startsWith('/') ? `unix://${address}` : address;
    this.runtime = new RuntimeServiceClient(target, credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
    // Same target and options: grpc-js shares one subchannel between the two clients.
    this.images = new ImageServiceClient(target, credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
  }

  /** Calls a RuntimeService RPC by name, e.g. `rt('version', { version: 'v1' })`. */
  rt<K extends RuntimeMethod>(method: K, req: ReqOf<RuntimeServiceClient[K]>, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<ResOf<RuntimeServiceClient[K]>> {
    return unary(this.runtime as unknown as Record<string, UnaryMethod<unknown, unknown>>, method, req, timeoutMs) as Promise<ResOf<RuntimeServiceClient[K]>>;
  }

  /** Calls an ImageService RPC by name. */
  img<K extends ImageMethod>(method: K, req: ReqOf<ImageServiceClient[K]>, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<ResOf<ImageServiceClient[K]>> {
    return unary(this.images as unknown as Record<string, UnaryMethod<unknown, unknown>>, method, req, timeoutMs) as Promise<ResOf<ImageServiceClient[K]>>;
  }

  close(): void {
    this.runtime.close();
    this.images.close();
  }
}

function unary(client: Record<string, UnaryMethod<unknown, unknown>>, method: string, req: unknown, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    client[method]?.(req, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(err);
      else resolve(res);
    });
  });
}

export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}

export function isNotFound(e: unknown): boolean {
  return isServiceError(e) && e.code === status.NOT_FOUND;
}

/**
 * Wraps a failed CRI call. `reason` is the Kubernetes reason for the step (ErrImagePull,
 * CreateContainerError, RunContainerError, ...); NOT_FOUND and UNAVAILABLE keep their own
 * reasons because callers branch on them (gone vs. runtime down).
 */
export function criError(e: unknown, reason: string, what: string): RuntimeError {
  if (e instanceof RuntimeError) return e;
  if (isServiceError(e)) {
    const detail = e.details || e.message;
    if (e.code === status.UNAVAILABLE) return new RuntimeError('Unavailable', `${what}: container runtime unavailable: ${detail}`);
    if (e.code === status.DEADLINE_EXCEEDED) return new RuntimeError('Timeout', `${what}: container runtime did not answer in time: ${detail}`);
    if (e.code === status.NOT_FOUND && reason !== 'ErrImagePull') return new RuntimeError('NotFound', `${what}: ${detail}`);
    return new RuntimeError(reason, `${what}: ${detail}`);
  }
  return new RuntimeError(reason, `${what}: ${e instanceof Error ? e.message : String(e)}`);
}
