// Kubernetes' static token file, one `token,user[,uid[,"group1,group2"]]` per line (blank lines
// and # comments skipped): read by the control plane (--token-file) and written and re-read by
// `skiff up`, so both sides parse it one way.
export interface TokenLine {
  token: string;
  /** '' when the line is a bare token. */
  user: string;
  uid: string;
  groups: string[];
}

/** Splits one CSV line, honouring double quotes (the groups column is quoted: "a,b"). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

export function parseTokenFile(text: string): TokenLine[] {
  const out: TokenLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [token = '', user = '', uid = '', groups = ''] = csvFields(line);
    if (!token) continue;
    out.push({ token, user, uid, groups: groups.split(',').map((g) => g.trim()).filter(Boolean) });
  }
  return out;
}
