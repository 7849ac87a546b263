// Pure query answering: a decoded query and the Zone in, a response packet out, or "forward"
// for names outside the cluster domain (and reverse names the zone has no PTR for, as CoreDNS
// does with `fallthrough in-addr.arpa`).
import type { Answer, Packet, Question, SoaAnswer } from 'dns-packet';
import { canonical, TTL, type Zone } from './zone.js';

// Header flag bits (RFC 1035 4.1.1); dns-packet keeps RCODE in the low 4 bits of `flags`.
const AA = 1 << 10;
const RD = 1 << 8;
const RA = 1 << 7;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export type Resolution = { kind: 'answer'; response: Packet } | { kind: 'forward' };

export function inZone(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`);
}

export function soa(z: Zone): SoaAnswer {
  return {
    type: 'SOA', name: z.domain, ttl: TTL, class: 'IN',
    data: {
      mname: `ns.dns.${z.domain}`, rname: `hostmaster.${z.domain}`, serial: z.serial,
      refresh: 7200, retry: 1800, expire: 86400, minimum: TTL,
    },
  };
}

/** A response with no records and the given rcode (FORMERR, NOTIMP, SERVFAIL, REFUSED). */
export function errorResponse(query: Packet, rcode: number): Packet {
  return {
    type: 'response', id: query.id ?? 0,
    flags: ((query.flags ?? 0) & RD) | RA | rcode,
    questions: query.questions ?? [],
  };
}

export function resolve(z: Zone, query: Packet): Resolution {
  const qs = query.questions ?? [];
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  if (opcode !== 0) return { kind: 'answer', response: errorResponse(query, RCODE.NOTIMP) };
  if (qs.length !== 1) return { kind: 'answer', response: errorResponse(query, RCODE.FORMERR) };
  const q = qs[0]!;
  const name = canonical(q.name);
  // dns-packet decodes type 255 as "ANY", which its typings leave out.
  const qtype: string = q.type;
  const rec = z.names.get(name);
  if (!inZone(name, z.domain)) {
    if (name.endsWith('.in-addr.arpa') && rec?.ptr.length && (qtype === 'PTR' || qtype === 'ANY')) {
      return { kind: 'answer', response: respond(query, q, RCODE.NOERROR, rec.ptr.map((p) => ({ type: 'PTR', name: q.name, ttl: TTL, class: 'IN', data: p })), [], []) };
    }
    return { kind: 'forward' };
  }
  if ((q.class ?? 'IN') !== 'IN' && q.class !== 'ANY') return { kind: 'answer', response: errorResponse(query, RCODE.REFUSED) };
  if (!rec) return { kind: 'answer', response: respond(query, q, RCODE.NXDOMAIN, [], [soa(z)], []) };
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  const want = (t: string) => qtype === t || qtype === 'ANY';
  if (want('A')) for (const a of rec.a) answers.push({ type: 'A', name: q.name, ttl: TTL, class: 'IN', data: a });
  if (want('SRV')) {
    for (const s of rec.srv) {
      answers.push({ type: 'SRV', name: q.name, ttl: TTL, class: 'IN', data: { ...s } });
      // The target's addresses ride along, saving the client a round trip.
      for (const a of z.names.get(s.target)?.a ?? []) additionals.push({ type: 'A', name: s.target, ttl: TTL, class: 'IN', data: a });
    }
  }
  if (want('SOA') && name === z.domain) answers.push(soa(z));
  // Known name, no record of that type: NOERROR/NODATA with the SOA for negative caching.
  return { kind: 'answer', response: respond(query, q, RCODE.NOERROR, answers, answers.length ? [] : [soa(z)], additionals) };
}

function respond(query: Packet, q: Question, rcode: number, answers: Answer[], authorities: Answer[], additionals: Answer[]): Packet {
  return {
    type: 'response', id: query.id ?? 0,
    flags: AA | ((query.flags ?? 0) & RD) | RA | rcode,
    questions: [q], answers, authorities, additionals,
  };
}
