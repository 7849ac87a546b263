// The etcd write ceiling on this machine, measured against the bench's own etcd with the etcd3
// client: many single puts in flight, and puts batched in transactions. Values are pod-sized.
import { Etcd3 } from 'etcd3';

export interface Ceiling { singlePutsPerSec: number; batchedPutsPerSec: number; batchSize: number; concurrency: number; valueBytes: number; seconds: number }

export async function measureCeiling(endpoint: string, opts: { seconds: number; concurrency: number; valueBytes: number; batchSize: number }): Promise<Ceiling> {
  const client = new Etcd3({ hosts: endpoint });
  const value = 'x'.repeat(opts.valueBytes);
  const prefix = `/bench-ceiling/${Date.now()}/`;
  try {
    const run = async (perOp: number, op: (i: number) => Promise<unknown>): Promise<number> => {
      let n = 0;
      let ops = 0;
      const end = Date.now() + opts.seconds * 1000;
      const start = Date.now();
      await Promise.all(Array.from({ length: opts.concurrency }, async () => {
        while (Date.now() < end) {
          await op(n++);
          ops++;
        }
      }));
      return (ops * perOp) / ((Date.now() - start) / 1000);
    };
    const single = await run(1, (i) => client.put(`${prefix}s/${i % 50_000}`).value(value).exec());
    const batched = await run(opts.batchSize, (i) => {
      const ns = client.if(`${prefix}guard`, 'Version', '==', 0);
      return ns.then(...Array.from({ length: opts.batchSize }, (_, j) => client.put(`${prefix}b/${(i * opts.batchSize + j) % 50_000}`).value(value))).commit();
    });
    await client.delete().prefix(prefix).exec();
    return {
      singlePutsPerSec: Math.round(single), batchedPutsPerSec: Math.round(batched), batchSize: opts.batchSize,
      concurrency: opts.concurrency, valueBytes: opts.valueBytes, seconds: opts.seconds,
    };
  } finally {
    client.close();
  }
}
