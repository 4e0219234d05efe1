/**
 * Where the CPU time goes: summarises V8 .cpuprofile files (from `node --cpu-prof`, or the
 * benchmark's `--cpu-prof DIR`) by self time per package or project folder and
 * per function. Usage: `tsx bench/cpu-profile.ts FILE.cpuprofile... [--top N]`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The package (`node_modules/<name>`), project folder (`core/scan`), `node:` internal, or a V8 marker. */
export function groupOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url.split('/')[0]!;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const project =
    /\/work\/[^/]+\/(?:[^/]+\/)*?((?:core|bin|workers|fixtures|bench|config|test|server)(?:\/[^/]+)?)\//.exec(
      url,
    );
  if (project) return project[1]!;
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
}

/** Self time (ms) per group and per function of one profile. */
export function summarise(profile: Profile): {
  totalMs: number;
  groups: Map<string, number>;
  functions: Map<string, number>;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { url, functionName, lineNumber } = node.callFrame;
    const group = groupOf(url, functionName);
    groups.set(group, (groups.get(group) ?? 0) + us / 1000);
    const name = `${functionName || '(anonymous)'} ${group}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us / 1000);
  }
  return { totalMs: (profile.endTime - profile.startTime) / 1000, groups, functions };
}

function top(map: Map<string, number>, n: number, total: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([name, ms]) =>
        `${ms.toFixed(0).padStart(8)} ms ${((ms / total) * 100).toFixed(1).padStart(5)} %  ${name}`,
    );
}

function main(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { top: { type: 'string', default: '25' } },
    allowPositionals: true,
  });
  const n = Number(values.top);
  for (const file of positionals) {
    const { totalMs, groups, functions } = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    const idle = groups.get('(idle)') ?? 0;
    process.stdout.write(
      `${file}: ${(totalMs / 1000).toFixed(1)} s profiled, ${((totalMs - idle) / 1000).toFixed(1)} s busy\n`,
    );
    process.stdout.write(`by package or folder:\n${top(groups, n, totalMs).join('\n')}\n`);
    process.stdout.write(`by function:\n${top(functions, n, totalMs).join('\n')}\n\n`);
  }
}

if (process.argv[1] && /cpu-profile\.ts$/.test(process.argv[1])) main(process.argv.slice(2));
