/**
 * @module bench/profile-top
 * Summarises V8 .cpuprofile files (node --cpu-prof, e.g. `PROFILE=1 npm run bench`): per file,
 * the top functions by self time, and self time grouped by where the code lives (our src/ module,
 * a node_modules package, node internals, GC, idle).
 * usage: node --import tsx bench/profile-top.ts FILE.cpuprofile... [--top 25]
 * Touches: reads the given files.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function where(url: string, fn: string): string {
  if (fn === '(garbage collector)' || fn === '(idle)' || fn === '(program)') return fn;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg:${nm[1]}`;
  const src = /\/(?:dist|src)\/(.+?)\.[jt]s$/.exec(url);
  if (src) return `mailgate:${src[1]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url === '' ? '(native)' : url;
}

function summarise(file: string, top: number): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fnTime = new Map<string, number>();
  const groupTime = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const key = `${functionName || '(anon)'} ${url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${lineNumber + 1}`;
    fnTime.set(key, (fnTime.get(key) ?? 0) + us);
    const g = where(url, functionName);
    groupTime.set(g, (groupTime.get(g) ?? 0) + us);
  }
  const busy = total - (groupTime.get('(idle)') ?? 0);
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1)}%`.padStart(6);
  console.log(`\n== ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages of busy)`);
  console.log('-- by module/package');
  for (const [g, us] of [...groupTime].filter(([g]) => g !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${g}`);
  console.log('-- top functions (self)');
  for (const [k, us] of [...fnTime].sort((a, b) => b[1] - a[1]).slice(0, top)) if (!k.startsWith('(idle)')) console.log(`${pct(us)}  ${k}`);
}

const args = process.argv.slice(2);
const t = args.indexOf('--top');
const top = t >= 0 ? Number(args.splice(t, 2)[1]) : 25;
for (const f of args) summarise(f, top);
