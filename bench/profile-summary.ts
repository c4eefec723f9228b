/**
 * Reads a V8 CPU profile (node --cpu-prof, a .cpuprofile file) and prints where the time went: the share of
 * samples per function (self time) and per source file, top entries first. For comparing runs of
 * bench/media-capacity.ts --cpu-prof on a machine whose absolute figures cannot be trusted (shared, loaded):
 * the shares are what to compare.
 *
 * Run: npx tsx bench/profile-summary.ts FILE.cpuprofile [TOP] [--long MS]      (prints figures; not a test)
 *
 * --long MS: the loop's long tasks instead: every stretch of at least MS ms in which the profiler never saw the
 * loop idle (what delays every call's 20 ms tick), with when it started, how long it ran, and the functions
 * that were on the stack for most of it (inclusive time, so an fs call shows under the code that made it).
 */
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

const argv = process.argv.slice(2);
const longAt = argv.indexOf('--long');
const longMs = longAt >= 0 ? Number(argv.splice(longAt, 2)[1]) : undefined;
const [file, topArg] = argv;
if (!file) {
  process.stderr.write('usage: profile-summary FILE.cpuprofile [TOP] [--long MS]\n');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const frameName = (node: ProfileNode): string => {
  const frame = node.callFrame;
  const where = frame.url.replace(/^.*\/(src|node_modules|bench)\//, '$1/').replace(/^node:/, 'node:') || '(native)';
  return `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
};

if (longMs !== undefined) {
  printLongTasks(longMs);
  process.exit(0);
}

/** Stretches of at least `minMs` with no idle sample, and what was on the stack during each. */
function printLongTasks(minMs: number): void {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const tasks: { startUs: number; us: number; samples: number[] }[] = [];
  let at = 0;
  let current: { startUs: number; us: number; samples: number[] } | undefined;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (idle.has(id)) {
      if (current && current.us >= minMs * 1000) tasks.push(current);
      current = undefined;
      return;
    }
    current ??= { startUs: at, us: 0, samples: [] };
    current.us += dt;
    current.samples.push(i);
  });
  const busyUs = tasks.reduce((a, t) => a + t.us, 0);
  console.log(`${tasks.length} stretches of >= ${minMs} ms with no idle sample, ${(busyUs / 1e6).toFixed(2)} s in all`);
  const overall = new Map<string, number>();
  for (const task of tasks) {
    const inclusive = new Map<string, number>();
    for (const i of task.samples) {
      const dt = profile.timeDeltas[i] ?? 0;
      const seen = new Set<string>();
      for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
        const name = frameName(byId.get(id)!);
        if (seen.has(name)) continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
        overall.set(name, (overall.get(name) ?? 0) + dt);
      }
    }
    const lines = [...inclusive]
      .filter(([name]) => !/^\((root|program)\)/.test(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([name, us]) => `      ${((100 * us) / task.us).toFixed(0).padStart(3)}%  ${name}`);
    console.log(`  at ${(task.startUs / 1e6).toFixed(2)} s: ${(task.us / 1000).toFixed(1)} ms\n${lines.join('\n')}`);
  }
  console.log('inclusive time over all those stretches:');
  for (const [name, us] of [...overall].filter(([name]) => !/^\((root|program)\)/.test(name)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${name}`);
  }
}

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const frame = byId.get(id)!.callFrame;
  const where = frame.url.replace(/^.*\/(src|node_modules|bench)\//, '$1/').replace(/^node:/, 'node:') || '(native)';
  const fn = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  byFile.set(where, (byFile.get(where) ?? 0) + us);
}

const print = (title: string, map: Map<string, number>): void => {
  console.log(`${title} (share of ${(total / 1e6).toFixed(1)} s sampled):`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
};
print('self time by function', byFunction);
print('self time by file', byFile);
