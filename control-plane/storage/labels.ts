// Kubernetes label selectors: the string syntax of `-l` ("app=web,tier in (a,b),!canary") and
// the LabelSelector message (matchLabels + matchExpressions), both compiled to one matcher.
import { errors } from '../../proto/api/errors.js';
import type { LabelSelector } from '../../proto/gen/skiff/v1/meta.js';

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}
export type Labels = Record<string, string>;

const NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isValidLabelKey(k: string): boolean {
  const slash = k.indexOf('/');
  if (slash >= 0 && slash > 253) return false;
  return NAME.test(k) && k.length - (slash + 1) <= 63;
}

export function isValidLabelValue(v: string): boolean {
  return v.length <= 63 && VALUE.test(v);
}

/** Parses the `-l` syntax. Throws BadRequest naming the offending part. */
export function parseLabelSelector(text: string): Requirement[] {
  const reqs: Requirement[] = [];
  const s = text.trim();
  let i = 0;
  const bad = (why: string): never => {
    throw errors.badRequest(`invalid label selector "${text}": ${why} at position ${i}`);
  };
  const skipWs = (): void => {
    while (i < s.length && s[i] === ' ') i++;
  };
  const word = (): string => {
    skipWs();
    const start = i;
    while (i < s.length && !' ,=!()'.includes(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipWs();
    if (s[i] === '!') {
      i++;
      const key = word();
      if (!key) bad('expected a key after "!"');
      reqs.push({ key, op: 'DoesNotExist', values: [] });
    } else {
      const key = word();
      if (!key) bad('expected a key');
      skipWs();
      if (s.startsWith('!=', i)) {
        i += 2;
        reqs.push({ key, op: 'NotIn', values: [word()] });
      } else if (s.startsWith('==', i)) {
        i += 2;
        reqs.push({ key, op: 'In', values: [word()] });
      } else if (s[i] === '=') {
        i += 1;
        reqs.push({ key, op: 'In', values: [word()] });
      } else if (s.startsWith('in', i) || s.startsWith('notin', i)) {
        const op: Operator = s.startsWith('in', i) ? 'In' : 'NotIn';
        i += op === 'In' ? 2 : 5;
        skipWs();
        if (s[i] !== '(') bad('expected "("');
        i++;
        const values: string[] = [];
        for (;;) {
          values.push(word());
          skipWs();
          if (s[i] === ',') i++;
          else if (s[i] === ')') {
            i++;
            break;
          } else bad('expected "," or ")"');
        }
        reqs.push({ key, op, values });
      } else {
        reqs.push({ key, op: 'Exists', values: [] });
      }
    }
    skipWs();
    if (i < s.length) {
      if (s[i] !== ',') bad('expected ","');
      i++;
    }
  }
  for (const r of reqs) {
    if (!isValidLabelKey(r.key)) throw errors.badRequest(`invalid label selector "${text}": bad key "${r.key}"`);
    for (const v of r.values) {
      if (!isValidLabelValue(v)) throw errors.badRequest(`invalid label selector "${text}": bad value "${v}"`);
    }
  }
  return reqs;
}

/** Requirements of a LabelSelector message. An empty selector matches everything. */
export function selectorRequirements(sel: LabelSelector | undefined): Requirement[] {
  if (!sel) return [];
  const reqs: Requirement[] = Object.entries(sel.matchLabels).map(([key, v]) => ({ key, op: 'In', values: [v] }));
  for (const e of sel.matchExpressions) reqs.push({ key: e.key, op: e.operator as Operator, values: e.values });
  return reqs;
}

export function matches(reqs: readonly Requirement[], labels: Labels | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'In':
        if (!has || !r.values.includes(l[r.key]!)) return false;
        break;
      case 'NotIn':
        if (has && r.values.includes(l[r.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export function selectorMatches(sel: LabelSelector | undefined, labels: Labels | undefined): boolean {
  return matches(selectorRequirements(sel), labels);
}

/** The `-l` text form of a LabelSelector, as `get -o wide` prints it. */
export function formatSelector(sel: LabelSelector | undefined): string {
  return selectorRequirements(sel)
    .map((r) => {
      switch (r.op) {
        case 'In':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
      }
    })
    .join(',');
}
