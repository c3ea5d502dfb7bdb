// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per file, highest first.
// Usage: node bench/profile-summary.ts FILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  readonly name: string;
  readonly selfMs: number;
  readonly share: number;
}

/** Self time per function (`name file:line`) and per file, each sorted, highest first. */
export function summarise(profile: Profile): { functions: ProfileRow[]; files: ProfileRow[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    if (node === undefined) return;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^file:\/\/\/work\/main\//, '').replace(/^.*node_modules\//, 'node_modules/');
    const name = `${functionName || '(anonymous)'} ${where}${where === '' ? '' : `:${lineNumber + 1}`}`;
    fn.set(name, (fn.get(name) ?? 0) + dt);
    const fileName = where === '' ? `(${functionName})` : where;
    file.set(fileName, (file.get(fileName) ?? 0) + dt);
  });
  const rows = (m: Map<string, number>): ProfileRow[] =>
    [...m].map(([name, selfMs]) => ({ name, selfMs, share: selfMs / total })).sort((a, b) => b.selfMs - a.selfMs);
  return { functions: rows(fn), files: rows(file) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2];
  const topAt = process.argv.indexOf('--top');
  const top = topAt === -1 ? 25 : Number(process.argv[topAt + 1]);
  const { functions, files } = summarise(JSON.parse(readFileSync(path, 'utf8')) as Profile);
  const show = (title: string, rows: ProfileRow[]): void => {
    console.log(title);
    for (const r of rows.slice(0, top)) console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(6)} ms  ${r.name}`);
  };
  show('self time by function', functions);
  show('\nself time by file', files);
}
