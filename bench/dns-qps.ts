#!/usr/bin/env node
// Queries per second one cluster DNS server answers on loopback: a fixed number of A queries
// (default 50,000) for random services of a 1,000-service zone, 64 in flight over one UDP
// socket. Loopback only; nothing is forwarded.
// Run: npx tsc -p tsconfig.json && node dist/bench/dns-qps.js [queries] [inFlight]
// Prints one JSON object on stdout and a human summary on stderr.
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import dnsPacket from 'dns-packet';
import pino from 'pino';
import { ClusterDnsServer } from '../node-agent/network/dns/server.js';
import { bigSnapshot } from '../node-agent/network/proxy/testdata.js';

const total = Number(process.argv[2] ?? 50_000);
const inFlight = Number(process.argv[3] ?? 64);
const services = 1000;

async function main(): Promise<void> {
  const dns = new ClusterDnsServer({ listenAddress: '127.0.0.1', port: 0, upstreams: [], log: pino({ level: 'silent' }) });
  await dns.start();
  dns.update(bigSnapshot(services, 10));
  const queries = Array.from({ length: services }, (_, i) => `svc-${i}.bench.svc.cluster.local`);
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  let sent = 0;
  let answered = 0;
  let wrong = 0;
  const started = performance.now();
  const send = () => {
    const id = sent++ & 0xffff;
    const name = queries[Math.floor(Math.random() * services)]!;
    sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] }), dns.port, '127.0.0.1');
  };
  const done = new Promise<void>((resolve) => {
    sock.on('message', (m) => {
      answered++;
      if (dnsPacket.decode(m).answers?.length !== 1) wrong++;
      if (sent < total) send();
      if (answered === total) resolve();
    });
  });
  for (let i = 0; i < Math.min(inFlight, total); i++) send();
  // Loopback UDP can drop under load: stop after a bounded wait instead of hanging.
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 120_000).unref());
  await Promise.race([done, timeout]);
  const seconds = (performance.now() - started) / 1000;
  sock.close();
  await dns.stop();
  const result = { queries: total, answered, wrongAnswers: wrong, inFlight, seconds: Number(seconds.toFixed(2)), qps: Math.round(answered / seconds) };
  process.stdout.write(JSON.stringify(result) + '\n');
  process.stderr.write(`cluster DNS on loopback: ${result.qps} queries/s (${answered}/${total} answered, ${wrong} wrong, ${inFlight} in flight)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
