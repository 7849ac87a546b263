// What a fake container "runs": a command line turned into a tiny program (print, sleep, exit,
// trap SIGTERM, run forever). It understands the small shell subset tests and simulated pods
// use, so `sh -c 'trap "" TERM; sleep 100'` behaves on the fake as it does in a container:
//   echo WORDS [>&2] | printf FMT | sleep N|infinity | exit N | trap ACTION SIGNALS |
//   while ...; do ...; done (runs forever) | exec CMD | true | false | : | other words (no-ops)
// A plain command that is not `sh -c` (e.g. `httpd -f`) runs until stopped.
// As PID 1 in its namespace, a program ignores SIGTERM unless it traps it, like the real thing.

export type Step =
  | { kind: 'out'; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'sleep'; ms: number }
  | { kind: 'exit'; code: number; reason?: string }
  | { kind: 'forever' }
  | { kind: 'trap'; onTerm: TermAction };

/** What SIGTERM does: nothing (PID 1 without a handler), or exit with a code. */
export type TermAction = { ignore: true } | { exit: number };

export interface Program {
  steps: Step[];
  onTerm: TermAction;
}

export const FOREVER_GRACEFUL: Program = { steps: [{ kind: 'forever' }], onTerm: { exit: 0 } };

/** Splits a shell line into words, honouring single and double quotes and backslashes. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | '' = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] ?? '';
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i] ?? '';
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i] ?? '';
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Splits a script into statements on `;`, `&&`, `||` and newlines outside quotes. */
export function statements(script: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < script.length; i++) {
    const ch = script[i] ?? '';
    const two = script.slice(i, i + 2);
    if (quote) {
      if (ch === quote) quote = '';
      cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (ch === ';' || ch === '\n' || two === '&&' || two === '||') {
      if (two === '&&' || two === '||') i++;
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function expand(word: string, env: Record<string, string>): string {
  return word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a?: string, def?: string, b?: string) => {
    const name = a ?? b ?? '';
    return env[name] ?? def ?? '';
  });
}

function parseSeconds(word: string | undefined): number {
  if (word === 'infinity') return Infinity;
  const n = Number(word);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : 0;
}

function termAction(action: string): TermAction {
  const w = shellWords(action);
  if (w.length === 0) return { ignore: true };
  if (w[0] === 'exit') return { exit: Number(w[1] ?? 0) || 0 };
  return { exit: 0 };
}

/** One statement of a script as steps. */
function statement(stmt: string, env: Record<string, string>): Step[] {
  const words = shellWords(stmt);
  let [cmd, ...rest] = words;
  if (cmd === 'exec') [cmd, ...rest] = rest;
  if (cmd === undefined) return [];
  if (stmt.endsWith('&')) return []; // background job: nothing observable
  switch (cmd) {
    case 'while':
    case 'until':
      return [{ kind: 'forever' }];
    case 'echo': {
      const toErr = rest.includes('>&2') || rest.includes('1>&2');
      const text = rest.filter((w) => w !== '>&2' && w !== '1>&2').map((w) => expand(w, env)).join(' ');
      return [{ kind: 'out', stream: toErr ? 'stderr' : 'stdout', text: `${text}\n` }];
    }
    case 'printf':
      return [{ kind: 'out', stream: 'stdout', text: expand(rest[0] ?? '', env).replace(/\\n/g, '\n') }];
    case 'sleep': {
      const ms = parseSeconds(expand(rest[0] ?? '0', env));
      return [ms === Infinity ? { kind: 'forever' } : { kind: 'sleep', ms }];
    }
    case 'exit':
      return [{ kind: 'exit', code: Number(expand(rest[0] ?? '0', env)) || 0 }];
    case 'false':
      return [];
    case 'trap': {
      const [action = '', ...signals] = rest;
      if (signals.some((s) => /^(SIG)?TERM$|^15$/.test(s))) return [{ kind: 'trap', onTerm: termAction(action) }];
      return [];
    }
    case 'sh':
      return rest[0] === '-c' ? script(rest[1] ?? '', env).steps : [{ kind: 'forever' }];
    default:
      return [];
  }
}

function script(text: string, env: Record<string, string>): Program {
  const steps: Step[] = [];
  for (const stmt of statements(text)) {
    // A loop's body is its own statements: everything from `while` to `done` is one forever.
    if (/^(while|until)\b/.test(stmt)) {
      steps.push({ kind: 'forever' });
      break;
    }
    steps.push(...statement(stmt, env));
    const last = steps[steps.length - 1];
    if (last?.kind === 'exit' || last?.kind === 'forever') break;
  }
  return { steps, onTerm: { ignore: true } };
}

/** The program for a container's command line (command + args as the CRI would exec them). */
export function programOf(argv: string[], env: Record<string, string>): Program {
  const [cmd, ...rest] = argv;
  const base = cmd?.split('/').pop();
  if ((base === 'sh' || base === 'bash' || base === 'ash') && rest[0] === '-c') return script(rest[1] ?? '', env);
  if (base === 'sleep') {
    const ms = parseSeconds(rest[0]);
    return { steps: [ms === Infinity ? { kind: 'forever' } : { kind: 'sleep', ms }], onTerm: { ignore: true } };
  }
  if (base === 'true') return { steps: [], onTerm: { ignore: true } };
  if (base === 'false') return { steps: [{ kind: 'exit', code: 1 }], onTerm: { ignore: true } };
  // A server binary: runs until stopped.
  return { steps: [{ kind: 'forever' }], onTerm: { ignore: true } };
}

/** Output and exit code of a command run through exec (synchronously, no waiting). */
export function execOnce(
  argv: string[],
  ctx: { env: Record<string, string>; workingDir: string; cmdline: string[]; hostname: string },
): { exitCode: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const builtin = (words: string[]): number | undefined => {
    const [cmd, ...rest] = words;
    switch (cmd) {
      case 'env':
        stdout += Object.entries(ctx.env).map(([k, v]) => `${k}=${v}\n`).join('');
        return 0;
      case 'printenv':
        if (rest[0] === undefined) return builtin(['env']);
        if (ctx.env[rest[0]] === undefined) return 1;
        stdout += `${ctx.env[rest[0]]}\n`;
        return 0;
      case 'pwd':
        stdout += `${ctx.workingDir || '/'}\n`;
        return 0;
      case 'hostname':
        stdout += `${ctx.hostname}\n`;
        return 0;
      case 'cat':
        if (rest[0] === '/proc/1/cmdline') {
          stdout += ctx.cmdline.map((a) => `${a}\0`).join('');
          return 0;
        }
        stderr += `cat: can't open '${rest[0] ?? ''}': No such file or directory\n`;
        return 1;
      default:
        return undefined;
    }
  };
  const [cmd, ...rest] = argv;
  if (cmd === 'sh' && rest[0] === '-c') {
    let code = 0;
    for (const stmt of statements(rest[1] ?? '')) {
      const words = shellWords(stmt).map((w) => expand(w, ctx.env));
      const b = builtin(words);
      if (b !== undefined) {
        code = b;
        continue;
      }
      for (const step of statement(stmt, ctx.env)) {
        if (step.kind === 'out') {
          if (step.stream === 'stdout') stdout += step.text;
          else stderr += step.text;
        } else if (step.kind === 'exit') return { exitCode: step.code, stdout, stderr };
      }
      code = words[0] === 'false' ? 1 : 0;
    }
    return { exitCode: code, stdout, stderr };
  }
  const b = builtin(argv);
  if (b !== undefined) return { exitCode: b, stdout, stderr };
  if (cmd === 'echo') return { exitCode: 0, stdout: `${rest.join(' ')}\n`, stderr };
  if (cmd === 'true') return { exitCode: 0, stdout, stderr };
  if (cmd === 'false') return { exitCode: 1, stdout, stderr };
  return { exitCode: 127, stdout, stderr: `${cmd ?? ''}: not found\n` };
}
