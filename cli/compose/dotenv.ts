// The .env and env_file format as Compose reads it: KEY=VALUE lines, optional "export ",
// blank lines and # comments, 'single quotes' literal, "double quotes" with \n \t \" \\ escapes
// and interpolation, unquoted values with a " #" comment cut off, a bare KEY meaning "take it
// from the environment". Later lines may use earlier ones (and the environment) as ${VAR}.
import { interpolate, InterpolationError, type Lookup } from './interpolate.js';

export class DotenvError extends Error {}

/** Parses text into ordered entries; a bare KEY (no "=") maps to undefined. */
export function parseDotenv(text: string, file: string, env: Lookup = () => undefined): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const lookup: Lookup = (n) => (out.has(n) ? out.get(n) : env(n));
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    const line = raw.replace(/^export\s+/, '');
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new DotenvError(`${file}:${i + 1}: invalid variable name "${key}"`);
    if (eq < 0) {
      out.set(key, env(key));
      continue;
    }
    let value = line.slice(eq + 1).trim();
    try {
      if (value.startsWith("'")) {
        const end = value.indexOf("'", 1);
        if (end < 0) throw new DotenvError(`${file}:${i + 1}: unterminated single quote`);
        value = value.slice(1, end);
      } else if (value.startsWith('"')) {
        // A double-quoted value may run over several lines.
        let body = value.slice(1);
        while (!/(^|[^\\])(\\\\)*"/.test(body) && i + 1 < lines.length) body += `\n${lines[++i]!}`;
        const m = /^((?:[^"\\]|\\.)*)"/s.exec(body);
        if (!m) throw new DotenvError(`${file}:${i + 1}: unterminated double quote`);
        const unescaped = m[1]!.replace(/\\(.)/g, (_x, c: string) => ({ n: '\n', t: '\t', r: '\r' } as Record<string, string>)[c] ?? c);
        value = interpolate(unescaped, lookup).value;
      } else {
        value = value.replace(/\s+#.*$/, '');
        value = interpolate(value, lookup).value;
      }
    } catch (e) {
      if (e instanceof InterpolationError) throw new DotenvError(`${file}:${i + 1}: ${e.message}`);
      throw e;
    }
    out.set(key, value);
  }
  return out;
}
