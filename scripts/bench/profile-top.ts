/**
 * `npx tsx scripts/bench/profile-top.ts <file.cpuprofile> [count] [--window <start>-<end> ...]`: the functions with
 * the most self time in a V8 CPU profile (from `npm run bench -- --profile`), and the share each package or folder of
 * ours takes, so a profile can be read without DevTools. `--window` keeps only the samples inside the given spans of
 * V8's monotonic clock (µs), such as the rounds `read-cpu.ts` prints, leaving out start-up and the other side's rounds.
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const windows: [number, number][] = [];
for (let i = args.indexOf('--window'); i >= 0; i = args.indexOf('--window')) {
  const [start, end] = (args[i + 1] ?? '').split('-').map(Number);
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    console.error('--window takes <start>-<end>, µs of the profile clock');
    process.exit(2);
  }
  windows.push([start!, end!]);
  args.splice(i, 2);
}
const [file, countArg] = args;
if (!file) {
  console.error('usage: profile-top <file.cpuprofile> [count] [--window <start>-<end> ...]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
const counted = (at: number) => windows.length === 0 || windows.some(([start, end]) => at >= start && at < end);
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  if (counted(at)) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const root = path.resolve(__dirname, '..', '..');
/** `node_modules/<pkg>`, our folder (src/grpc, adapters/subotiz, …) or the runtime. */
const areaOf = (url: string): string => {
  if (!url) return '(runtime)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const local = url.replace(/^file:\/\//, '').replace(root + '/', '');
  return local.split('/').slice(0, 2).join('/');
};

const functions = new Map<string, number>();
const areas = new Map<string, number>();
for (const [id, us] of selfUs) {
  const frame = byId.get(id)!.callFrame;
  const where = frame.url ? `${areaOf(frame.url)}:${frame.lineNumber + 1}` : '';
  const name = `${frame.functionName || '(anonymous)'} ${where}`.trim();
  functions.set(name, (functions.get(name) ?? 0) + us);
  const area = areaOf(frame.url);
  areas.set(area, (areas.get(area) ?? 0) + us);
}
const pct = (us: number) => ((100 * us) / total).toFixed(1).padStart(5) + '%';
const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);

console.log(`${(total / 1e6).toFixed(1)} s sampled\n\nself time by area:`);
for (const [area, us] of top(areas, 20)) console.log(`${pct(us)}  ${area}`);
console.log('\nself time by function:');
for (const [name, us] of top(functions, Number(countArg ?? 30))) console.log(`${pct(us)}  ${name}`);
